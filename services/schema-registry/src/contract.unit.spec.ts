import { describe, expect, it } from 'vitest';
import { effectiveContract, mergeMetadata, mergeRuleSets, parseMetadata, parseRuleSet, type Rule } from './contract.js';
import { RegistryError } from './errors.js';

const code = (fn: () => unknown): number | string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof RegistryError ? e.errorCode : String(e);
  }
};

const rule = (name: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: 'CONDITION', mode: 'WRITE', type: 'CEL', expr: 'true', ...extra });

describe('metadata', () => {
  it('reads tags, properties and sensitive as sorted sets and maps, dropping empty parts', () => {
    expect(parseMetadata({ tags: { '**.ssn': ['PII', 'HIGH', 'PII'] }, properties: { owner: 'b', a: 'x' }, sensitive: ['s2', 's1'] })).toEqual({
      tags: { '**.ssn': ['HIGH', 'PII'] },
      properties: { a: 'x', owner: 'b' },
      sensitive: ['s1', 's2'],
    });
    expect(JSON.stringify(parseMetadata({ properties: { owner: 'b', a: 'x' } }))).toBe('{"properties":{"a":"x","owner":"b"}}');
    expect(parseMetadata({ tags: {}, properties: {}, sensitive: [] })).toEqual({});
    expect(parseMetadata(null)).toBeUndefined();
  });

  it.each([
    ['a list', []],
    ['tags as a list', { tags: ['PII'] }],
    ['a tag that is not a string', { tags: { f: [1] } }],
    ['a property that is not a string', { properties: { n: 1 } }],
  ])('refuses %s with 42201 naming the field', (_what, v) => {
    expect(code(() => parseMetadata(v))).toBe(42201);
  });

  it('merges part by part, the later one winning per key (Confluent mergeMetadata)', () => {
    expect(mergeMetadata({ tags: { a: ['X'] }, properties: { owner: 'a', team: 't' } }, { properties: { owner: 'b' }, sensitive: ['k'] })).toEqual({
      tags: { a: ['X'] },
      properties: { owner: 'b', team: 't' },
      sensitive: ['k'],
    });
  });
});

describe('rule sets', () => {
  it('reads rules with Confluent defaults (TRANSFORM, WRITEREAD) and drops empty lists', () => {
    expect(parseRuleSet({ domainRules: [{ name: 'checkSsn', type: 'CEL_FIELD', expr: 'x' }], migrationRules: [] })).toEqual({
      domainRules: [{ name: 'checkSsn', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'CEL_FIELD', expr: 'x' }],
    });
  });

  it.each([
    ['a rule without a name', { domainRules: [{ type: 'CEL' }] }, /Missing rule name/],
    ['a name starting with a digit', { domainRules: [{ name: '1x', type: 'CEL' }] }, /Illegal rule name/],
    ['a rule without a type', { domainRules: [{ name: 'r' }] }, /Missing rule type/],
    ['an unknown mode', { domainRules: [{ name: 'r', type: 'CEL', mode: 'ALWAYS' }] }, /mode must be one of/],
    ['a migration rule in WRITE mode', { migrationRules: [{ name: 'r', type: 'JSONATA', mode: 'WRITE' }] }, /Migration rules can only be UPGRADE, DOWNGRADE, UPDOWN/],
    ['a domain rule in UPGRADE mode', { domainRules: [{ name: 'r', type: 'CEL', mode: 'UPGRADE' }] }, /Domain rules can only be WRITE, READ, WRITEREAD/],
    ['two rules with one name', { domainRules: [{ name: 'r', type: 'CEL' }], encodingRules: [{ name: 'r', type: 'ENCRYPT' }] }, /duplicate name 'r'/],
    ['several actions outside WRITEREAD/UPDOWN', { domainRules: [{ name: 'r', type: 'CEL', mode: 'WRITE', onFailure: 'DLQ,ERROR' }] }, /Multiple actions/],
  ])('refuses %s with 42210', (_what, v, message) => {
    expect(code(() => parseRuleSet(v))).toBe(42210);
    expect(() => parseRuleSet(v)).toThrow(message);
  });

  it('merges per list, a later rule replacing the earlier one of its name (Confluent mergeRuleSets)', () => {
    const merged = mergeRuleSets({ domainRules: [rule('a'), rule('b')] }, { domainRules: [rule('b', { expr: 'false' })], encodingRules: [rule('e')] });
    expect(merged).toEqual({ domainRules: [rule('a'), rule('b', { expr: 'false' })], encodingRules: [rule('e')] });
  });
});

describe('what a new version carries', () => {
  const previous = { metadata: { properties: { owner: 'a' } }, ruleSet: { domainRules: [rule('p')] } };

  it('inherits the previous version contract when the request has none', () => {
    expect(effectiveContract({}, previous, {})).toEqual(previous);
  });

  it('takes the request contract instead of the previous one, not merged with it', () => {
    expect(effectiveContract({ metadata: { properties: { team: 't' } } }, previous, {})).toEqual({ metadata: { properties: { team: 't' } }, ruleSet: previous.ruleSet });
  });

  it('applies config defaults under and overrides over it', () => {
    const config = { defaultMetadata: { properties: { owner: 'default', tier: 'gold' } }, overrideMetadata: { properties: { tier: 'override' } }, overrideRuleSet: { domainRules: [rule('o')] } };
    expect(effectiveContract({}, previous, config)).toEqual({
      metadata: { properties: { owner: 'a', tier: 'override' } },
      ruleSet: { domainRules: [rule('p'), rule('o')] },
    });
    expect(effectiveContract({}, undefined, {})).toEqual({});
  });
});
