import { describe, expect, it } from 'vitest';
import { RegistryError } from './errors.js';
import { flag, parseConfigRequest, parseId, parseModeRequest, parseRegisterRequest, parseVersion, validateSubject } from './requests.js';

const code = (fn: () => unknown): number | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof RegistryError ? e.errorCode : -1;
  }
};

describe('request validation', () => {
  it.each([
    ['1', 1],
    ['01', 1],
    ['2147483647', 2147483647],
    ['latest', 'latest'],
    ['LATEST', 'latest'],
    ['-1', 'latest'],
  ])('version %s is %s', (raw, v) => {
    expect(parseVersion(raw)).toBe(v);
  });

  it.each(['0', '-2', '1.5', 'abc', '', '2147483648', '99999999999', '1e3', ' '])('version %j is 42202', (raw) => {
    expect(code(() => parseVersion(raw))).toBe(42202);
  });

  it('ids are positive 32-bit integers; anything else finds no schema (40403)', () => {
    expect(parseId('7')).toBe(7);
    for (const raw of ['0', '-1', 'x', '1.0', '4294967296']) expect(code(() => parseId(raw))).toBe(40403);
  });

  it('allows any printable subject, rejects empty, blank, control characters and reserved names (42208)', () => {
    for (const s of ['a', 'a:b', 'a/b', 'with space', 'ü-value', ':.ctx:sub', 'x'.repeat(1000)]) expect(validateSubject(s)).toBe(s);
    for (const s of ['', '   ', 'a\nb', 'a\u0000', '__GLOBAL', '__EMPTY', 'x'.repeat(5000)]) expect(code(() => validateSubject(s))).toBe(42208);
  });

  it('reads a register body with defaults, references and import fields', () => {
    expect(parseRegisterRequest({ schema: '"int"' })).toEqual({ schema: '"int"', schemaType: 'AVRO', references: [] });
    expect(parseRegisterRequest({ schema: '{}', schemaType: 'JSON', references: [{ name: 'a', subject: 's', version: 2 }], id: 9, version: 3, metadata: {} })).toEqual({
      schema: '{}',
      schemaType: 'JSON',
      references: [{ name: 'a', subject: 's', version: 2 }],
      id: 9,
      version: 3,
      // An explicit empty contract is kept: it stops the previous version's from being inherited.
      metadata: {},
    });
    expect(parseRegisterRequest({ schema: '"int"', references: null, id: -1, version: 0 })).toEqual({ schema: '"int"', schemaType: 'AVRO', references: [] });
  });

  it.each([
    [undefined],
    [[]],
    ['text'],
    [{}],
    [{ schema: 1 }],
    [{ schema: '  ' }],
    [{ schema: '"int"', schemaType: 'XML' }],
    [{ schema: '"int"', references: {} }],
    [{ schema: '"int"', references: [{ name: 'a', subject: 's' }] }],
    [{ schema: '"int"', references: [{ name: 'a', subject: 's', version: 0 }] }],
    [{ schema: '"int"', id: 'x' }],
  ])('rejects the register body %j with 42201', (body) => {
    expect(code(() => parseRegisterRequest(body))).toBe(42201);
  });

  it('rejects a non-integer version in an import body with 42202', () => {
    expect(code(() => parseRegisterRequest({ schema: '"int"', version: 1.5 }))).toBe(42202);
  });

  it('reads compatibility and mode bodies in any case', () => {
    expect(parseConfigRequest({ compatibility: 'full_transitive' }).compatibility).toBe('FULL_TRANSITIVE');
    expect(code(() => parseConfigRequest({ compatibility: 'SIDEWAYS' }))).toBe(42203);
    expect(code(() => parseConfigRequest({ compatibilityLevel: 'FULL' }))).toBe(42203);
    expect(code(() => parseConfigRequest(undefined))).toBe(42203);
    // Data-contract defaults alone are a valid update that leaves the level as it is.
    expect(parseConfigRequest({ defaultMetadata: { properties: { owner: 'team-a' } } })).toEqual({ contract: { defaultMetadata: { properties: { owner: 'team-a' } } }, cleared: [] });
    expect(parseConfigRequest({ overrideRuleSet: null, compatibility: 'NONE' })).toEqual({ compatibility: 'NONE', contract: {}, cleared: ['overrideRuleSet'] });
    expect(code(() => parseConfigRequest({ defaultRuleSet: { domainRules: [{ name: 'r', kind: 'CONDITION', mode: 'UPGRADE', type: 'CEL' }] } }))).toBe(42210);
    expect(parseModeRequest({ mode: 'readonly' })).toBe('READONLY');
    expect(code(() => parseModeRequest({ mode: 'WRITEONLY' }))).toBe(42204);
  });

  it('treats only "true" as a true flag', () => {
    expect([flag('true'), flag('TRUE'), flag('1'), flag(undefined), flag('false')]).toEqual([true, true, false, false, false]);
  });
});
