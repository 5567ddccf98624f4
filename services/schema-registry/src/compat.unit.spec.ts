import { describe, expect, it } from 'vitest';
import { PreflightError } from '@preflight/core';
import { parseAvro } from './avro.js';
import { checkAvroCompatibility, LEVELS, readerWriterIncompatibilities, toLevel, type CompatibilityLevel } from './compat.js';

const rec = (fields: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'record', name: 'R', fields, ...extra });
const field = (name: string, type: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, type, ...extra });
const one = (type: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => rec([field('a', type, extra)]);
const ok = (next: unknown, prev: unknown, level: CompatibilityLevel): boolean => checkAvroCompatibility(next as object, [prev as object], level).compatible;
const errorTypes = (next: unknown, prev: unknown, level: CompatibilityLevel): string[] =>
  checkAvroCompatibility(next as object, [prev as object], level)
    .messages.map((m) => /errorType:'(\w+)'/.exec(m)?.[1])
    .filter((t): t is string => !!t);

describe('fields', () => {
  const base = rec([field('a', 'int')]);

  it('adding a field with a default is backward and forward compatible', () => {
    const next = rec([field('a', 'int'), field('b', 'string', { default: '' })]);
    expect(ok(next, base, 'BACKWARD')).toBe(true);
    expect(ok(next, base, 'FORWARD')).toBe(true);
    expect(ok(next, base, 'FULL')).toBe(true);
  });

  it('adding a field without a default breaks BACKWARD (new reader, old data) but not FORWARD', () => {
    const next = rec([field('a', 'int'), field('b', 'string')]);
    expect(errorTypes(next, base, 'BACKWARD')).toEqual(['READER_FIELD_MISSING_DEFAULT_VALUE']);
    expect(ok(next, base, 'FORWARD')).toBe(true);
    const [first] = checkAvroCompatibility(next, [base], 'BACKWARD').messages;
    expect(first).toContain("The field 'b' at path '/fields/1' in the new schema has no default value and is missing in the old schema");
  });

  it('removing a field is BACKWARD; FORWARD only if the removed field had a default', () => {
    expect(ok(rec([]), base, 'BACKWARD')).toBe(true);
    expect(errorTypes(rec([]), base, 'FORWARD')).toEqual(['READER_FIELD_MISSING_DEFAULT_VALUE']);
    expect(ok(rec([]), rec([field('a', 'int', { default: 0 })]), 'FULL')).toBe(true);
  });

  it('renaming a field is compatible only through an alias', () => {
    const renamed = rec([field('b', 'int')]);
    expect(ok(renamed, base, 'BACKWARD')).toBe(false);
    expect(ok(rec([field('b', 'int', { aliases: ['a'] })]), base, 'BACKWARD')).toBe(true);
  });

  it('a field of a nested record is checked at its path', () => {
    const inner = (fields: unknown[]): unknown => ({ type: 'record', name: 'Inner', fields });
    const v1 = rec([field('n', inner([field('x', 'int')]))]);
    const v2 = rec([field('n', inner([field('x', 'int'), field('y', 'int')]))]);
    const r = checkAvroCompatibility(v2, [v1], 'BACKWARD');
    expect(r.compatible).toBe(false);
    expect(r.messages[0]).toContain("'/fields/0/type/fields/1'");
    expect(r.messages).toContain('{oldSchemaVersion: 1}');
    expect(r.messages.at(-1)).toBe("{compatibility: 'BACKWARD'}");
    expect(ok(rec([field('n', inner([field('x', 'int'), field('y', 'int', { default: 1 })]))]), v1, 'FULL')).toBe(true);
  });
});

describe('type promotions', () => {
  it.each([
    ['int', 'long'],
    ['int', 'float'],
    ['int', 'double'],
    ['long', 'float'],
    ['long', 'double'],
    ['float', 'double'],
    ['string', 'bytes'],
    ['bytes', 'string'],
  ])('data written as %s reads as %s', (writer, reader) => {
    expect(ok(one(reader), one(writer), 'BACKWARD')).toBe(true);
  });

  it.each([
    ['long', 'int'],
    ['double', 'float'],
    ['float', 'long'],
    ['int', 'string'],
    ['boolean', 'int'],
    ['string', 'int'],
  ])('data written as %s does not read as %s', (writer, reader) => {
    expect(errorTypes(one(reader), one(writer), 'BACKWARD')).toEqual(['TYPE_MISMATCH']);
  });

  it('a widening is backward but not forward; string and bytes are fully compatible', () => {
    expect(ok(one('long'), one('int'), 'BACKWARD')).toBe(true);
    expect(ok(one('long'), one('int'), 'FORWARD')).toBe(false);
    expect(ok(one('bytes'), one('string'), 'FULL')).toBe(true);
  });

  it('logical types are compared by their underlying type, as Avro does', () => {
    expect(ok(one({ type: 'long', logicalType: 'timestamp-millis' }), one('long'), 'FULL')).toBe(true);
  });
});

describe('enums', () => {
  const e = (symbols: string[], extra: Record<string, unknown> = {}): Record<string, unknown> => one({ type: 'enum', name: 'E', symbols, ...extra });

  it('adding a symbol is backward but not forward (an old reader meets an unknown symbol)', () => {
    expect(ok(e(['A', 'B', 'C']), e(['A', 'B']), 'BACKWARD')).toBe(true);
    expect(errorTypes(e(['A', 'B', 'C']), e(['A', 'B']), 'FORWARD')).toEqual(['MISSING_ENUM_SYMBOLS']);
  });

  it('removing a symbol is not backward, unless the reader enum has a default', () => {
    expect(errorTypes(e(['A']), e(['A', 'B']), 'BACKWARD')).toEqual(['MISSING_ENUM_SYMBOLS']);
    expect(ok(e(['A', 'Z'], { default: 'Z' }), e(['A', 'B']), 'BACKWARD')).toBe(true);
  });

  it('a renamed enum is a different type', () => {
    expect(errorTypes(one({ type: 'enum', name: 'F', symbols: ['A'] }), e(['A']), 'BACKWARD')).toEqual(['NAME_MISMATCH']);
  });
});

describe('unions', () => {
  it('making a field nullable is backward (every old value is readable) but not forward', () => {
    expect(ok(one(['null', 'int']), one('int'), 'BACKWARD')).toBe(true);
    expect(errorTypes(one(['null', 'int']), one('int'), 'FORWARD')).toEqual(['TYPE_MISMATCH']);
  });

  it('every branch the writer may have used must be readable', () => {
    expect(errorTypes(one('int'), one(['null', 'int']), 'BACKWARD')).toEqual(['TYPE_MISMATCH']);
    expect(errorTypes(one(['null', 'string']), one(['null', 'int', 'string']), 'BACKWARD')).toEqual(['MISSING_UNION_BRANCH']);
  });

  it('adding a branch is backward; a branch may be read through a promotion', () => {
    expect(ok(one(['null', 'int', 'string']), one(['null', 'int']), 'BACKWARD')).toBe(true);
    expect(ok(one(['null', 'long']), one(['null', 'int']), 'BACKWARD')).toBe(true);
  });

  it('accepts unions of several records, which avsc cannot encode unwrapped', () => {
    const two = one(['null', { type: 'record', name: 'X', fields: [] }, { type: 'record', name: 'Y', fields: [] }], { default: null });
    expect(ok(two, two, 'FULL_TRANSITIVE')).toBe(true);
  });
});

describe('named types, collections and recursion', () => {
  it('records match by unqualified name or an alias of the reader', () => {
    expect(ok({ ...rec([]), namespace: 'b' }, { ...rec([]), namespace: 'a' }, 'FULL')).toBe(true);
    expect(errorTypes({ ...rec([]), name: 'S' }, rec([]), 'BACKWARD')).toEqual(['NAME_MISMATCH']);
    expect(ok({ ...rec([]), name: 'S', aliases: ['R'] }, rec([]), 'BACKWARD')).toBe(true);
  });

  it('fixed types must keep their size', () => {
    const f = (size: number): unknown => one({ type: 'fixed', name: 'F', size });
    expect(ok(f(16), f(16), 'FULL')).toBe(true);
    expect(errorTypes(f(8), f(16), 'BACKWARD')).toEqual(['FIXED_SIZE_MISMATCH']);
  });

  it('array items and map values are checked like fields', () => {
    expect(ok(one({ type: 'array', items: 'long' }), one({ type: 'array', items: 'int' }), 'BACKWARD')).toBe(true);
    expect(errorTypes(one({ type: 'map', values: 'int' }), one({ type: 'map', values: 'string' }), 'BACKWARD')).toEqual(['TYPE_MISMATCH']);
    expect(errorTypes(one({ type: 'array', items: 'int' }), one({ type: 'map', values: 'int' }), 'BACKWARD')).toEqual(['TYPE_MISMATCH']);
  });

  it('terminates on recursive types and still finds a change inside them', () => {
    const list = (extra: unknown[] = []): unknown => ({ type: 'record', name: 'Node', fields: [field('value', 'int'), field('next', ['null', 'Node'], { default: null }), ...extra] });
    expect(ok(list(), list(), 'FULL_TRANSITIVE')).toBe(true);
    expect(errorTypes(list([field('label', 'string')]), list(), 'BACKWARD')).toEqual(['READER_FIELD_MISSING_DEFAULT_VALUE']);
  });

  it('reports the two sides in the reader/writer terms it was given', () => {
    const found = readerWriterIncompatibilities(parseAvro(one('int')), parseAvro(one('string')));
    expect(found).toEqual([expect.objectContaining({ type: 'TYPE_MISMATCH', path: '/fields/0/type', additionalInfo: 'reader type: INT not compatible with writer type: STRING' })]);
  });
});

describe('levels', () => {
  const v1 = rec([field('a', 'int')]);
  const v2 = rec([field('a', 'int'), field('b', 'int', { default: 0 })]);
  const v3 = rec([field('b', 'int')]); // reads v2 (which has b) but not v1 (no b, and no default)

  it('plain levels check the latest version only, transitive ones every earlier version', () => {
    expect(checkAvroCompatibility(v3, [v1, v2], 'BACKWARD').compatible).toBe(true);
    const transitive = checkAvroCompatibility(v3, [v1, v2], 'BACKWARD_TRANSITIVE');
    expect(transitive.compatible).toBe(false);
    expect(transitive.messages).toContain('{oldSchemaVersion: 1}');
    expect(transitive.messages).not.toContain('{oldSchemaVersion: 2}');
  });

  it('FORWARD_TRANSITIVE and FULL_TRANSITIVE look at every earlier version too', () => {
    const w1 = rec([field('a', 'int'), field('b', 'int')]);
    const w2 = rec([field('a', 'int'), field('b', 'int', { default: 0 })]);
    const w3 = rec([field('a', 'int')]); // drops b: fine for w2 (default), not for w1 as a reader
    expect(checkAvroCompatibility(w3, [w1, w2], 'FORWARD').compatible).toBe(true);
    expect(checkAvroCompatibility(w3, [w1, w2], 'FORWARD_TRANSITIVE').compatible).toBe(false);
    expect(checkAvroCompatibility(w3, [w1, w2], 'FULL').compatible).toBe(true);
    expect(checkAvroCompatibility(w3, [w1, w2], 'FULL_TRANSITIVE').compatible).toBe(false);
  });

  it('NONE and a first version are always compatible', () => {
    expect(checkAvroCompatibility(one('string'), [one('int')], 'NONE')).toEqual({ compatible: true, messages: [] });
    expect(checkAvroCompatibility(one('string'), [], 'FULL_TRANSITIVE')).toEqual({ compatible: true, messages: [] });
  });

  it('accepts schemas as text, and levels in any case', () => {
    expect(checkAvroCompatibility(JSON.stringify(v2), [JSON.stringify(v1)], 'backward' as CompatibilityLevel).compatible).toBe(true);
    expect(LEVELS.map((l) => toLevel(l.toLowerCase()))).toEqual([...LEVELS]);
    expect(toLevel('SIDEWAYS')).toBeUndefined();
  });

  it('throws a VALIDATION error for a schema that is not Avro, naming which one', () => {
    expect(() => checkAvroCompatibility('{"type":"record"', [v1], 'BACKWARD')).toThrow(PreflightError);
    expect(() => checkAvroCompatibility(v1, [{ type: 'record', name: 'R' }], 'BACKWARD')).toThrow(/version 1 is not a valid Avro schema/);
    expect(() => checkAvroCompatibility(v1, [v1], 'SIDEWAYS' as CompatibilityLevel)).toThrow(/unknown compatibility level/);
  });
});
