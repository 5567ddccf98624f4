import { describe, expect, it } from 'vitest';
import { canonicalAvro, parseAvro, stableStringify } from './avro.js';

const user = { type: 'record', name: 'User', namespace: 't', fields: [{ name: 'id', type: 'string' }] };

describe('canonical form', () => {
  it('ignores whitespace and key order', () => {
    const reordered = JSON.parse(JSON.stringify({ fields: [{ type: 'string', name: 'id' }], namespace: 't', name: 'User', type: 'record' }, null, 2)) as unknown;
    expect(canonicalAvro(reordered)).toBe(canonicalAvro(user));
  });

  it('treats a namespace attribute and a dotted name alike', () => {
    expect(canonicalAvro({ type: 'record', name: 't.User', fields: [{ name: 'id', type: 'string' }] })).toBe(canonicalAvro(user));
  });

  it('qualifies references to named types by the enclosing namespace', () => {
    const a = { type: 'record', name: 'Outer', namespace: 'n', fields: [{ name: 'u', type: 'User' }] };
    const b = { type: 'record', name: 'n.Outer', fields: [{ name: 'u', type: 'n.User' }] };
    expect(canonicalAvro(a)).toBe(canonicalAvro(b));
    expect(canonicalAvro(a)).toContain('"type":"n.User"');
  });

  it('writes a primitive without attributes as its bare name', () => {
    expect(canonicalAvro({ type: 'string' })).toBe('"string"');
    expect(canonicalAvro(['null', { type: 'int' }])).toBe('["null","int"]');
    expect(canonicalAvro({ type: 'long', logicalType: 'timestamp-millis' })).toBe('{"type":"long","logicalType":"timestamp-millis"}');
  });

  it('keeps what changes meaning: defaults, docs, order, aliases, custom properties, symbol order', () => {
    const base = canonicalAvro(user);
    const variants: unknown[] = [
      { ...user, fields: [{ name: 'id', type: 'string', default: '' }] },
      { ...user, doc: 'a user' },
      { ...user, fields: [{ name: 'id', type: 'string', order: 'descending' }] },
      { ...user, aliases: ['Person'] },
      { ...user, 'connect.name': 't.User' },
      { ...user, namespace: 'u' },
    ];
    for (const v of variants) expect(canonicalAvro(v)).not.toBe(base);
    const e = (symbols: string[]): string => canonicalAvro({ type: 'enum', name: 'E', symbols });
    expect(e(['A', 'B'])).not.toBe(e(['B', 'A']));
  });

  it('drops only the default sort order, which Avro leaves out too', () => {
    expect(canonicalAvro({ ...user, fields: [{ name: 'id', type: 'string', order: 'ascending' }] })).toBe(canonicalAvro(user));
  });

  it('sorts the keys of object defaults and custom properties', () => {
    const a = { type: 'record', name: 'R', fields: [{ name: 'm', type: { type: 'map', values: 'int' }, default: { x: 1, y: 2 } }] };
    const b = { type: 'record', name: 'R', fields: [{ name: 'm', type: { type: 'map', values: 'int' }, default: { y: 2, x: 1 } }] };
    expect(canonicalAvro(a)).toBe(canonicalAvro(b));
    expect(stableStringify({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});

describe('parseAvro', () => {
  it('resolves named types from referenced schemas', () => {
    const outer = { type: 'record', name: 'Outer', fields: [{ name: 'u', type: 't.User' }] };
    expect(() => parseAvro(outer)).toThrow(/undefined type name/);
    expect(parseAvro(outer, [user]).name).toBe('Outer');
  });

  it.each([
    [{ type: 'record', name: 'R' }, /fields/],
    [{ type: 'record', name: '1R', fields: [] }, /invalid name/],
    [{ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int', default: 'x' }] }, /default/],
    [{ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }, { name: 'a', type: 'int' }] }, /duplicate/],
    [['null', 'null'], /duplicate/],
    [{ type: 'enum', name: 'E', symbols: ['A'], default: 'B' }, /default/],
    [{ type: 'nope' }, /unknown type/],
  ])('rejects %j', (schema, message) => {
    expect(() => parseAvro(schema)).toThrow(message);
  });
});
