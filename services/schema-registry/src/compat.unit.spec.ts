import { describe, expect, it } from 'vitest';
import { checkAvroCompatibility } from './compat.js';
import { canonicalize, RegistryState } from './store.js';

const rec = (fields: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'record', name: 'R', fields, ...extra });
const base = rec([{ name: 'a', type: 'int' }]);

describe('Avro compatibility (Avro schema resolution rules)', () => {
  it.each([
    ['adding a field with a default', rec([{ name: 'a', type: 'int' }, { name: 'b', type: 'string', default: '' }]), 'BACKWARD', true],
    ['adding a field without a default', rec([{ name: 'a', type: 'int' }, { name: 'b', type: 'string' }]), 'BACKWARD', false],
    ['removing a field', rec([]), 'BACKWARD', true],
    ['removing a field without default, read forward', rec([]), 'FORWARD', false],
    ['promoting int to long', rec([{ name: 'a', type: 'long' }]), 'BACKWARD', true],
    ['promoting int to double', rec([{ name: 'a', type: 'double' }]), 'BACKWARD', true],
    ['demoting to int from long is not forward', rec([{ name: 'a', type: 'long' }]), 'FORWARD', false],
    ['int to string', rec([{ name: 'a', type: 'string' }]), 'BACKWARD', false],
    ['widening to a union', rec([{ name: 'a', type: ['null', 'int'] }]), 'BACKWARD', true],
    ['anything with NONE', rec([{ name: 'a', type: 'string' }]), 'NONE', true],
  ])('%s: %s → %s', (_name, next, level, ok) => {
    expect(checkAvroCompatibility(next, [base], level as 'BACKWARD').compatible).toBe(ok);
  });

  it('string and bytes resolve both ways', () => {
    const s = rec([{ name: 'a', type: 'string' }]);
    const b = rec([{ name: 'a', type: 'bytes' }]);
    expect(checkAvroCompatibility(b, [s], 'FULL').compatible).toBe(true);
  });

  it('enum symbols: adding one is backward but not forward', () => {
    const e1 = rec([{ name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] } }]);
    const e2 = rec([{ name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B', 'C'] } }]);
    expect(checkAvroCompatibility(e2, [e1], 'BACKWARD').compatible).toBe(true);
    expect(checkAvroCompatibility(e2, [e1], 'FORWARD').compatible).toBe(false);
  });

  it('nested records are checked field by field', () => {
    const n1 = rec([{ name: 'n', type: rec([{ name: 'x', type: 'int' }], { name: 'N' }) }]);
    const n2 = rec([{ name: 'n', type: rec([{ name: 'x', type: 'int' }, { name: 'y', type: 'int' }], { name: 'N' }) }]);
    const r = checkAvroCompatibility(n2, [n1], 'BACKWARD');
    expect(r.compatible).toBe(false);
    expect(r.messages[0]).toMatch(/version 1/);
  });

  it('transitive levels check every earlier version, plain levels only the latest', () => {
    const v1 = rec([{ name: 'a', type: 'int' }]);
    const v2 = rec([{ name: 'a', type: 'int' }, { name: 'b', type: 'int', default: 0 }]);
    const v3 = rec([{ name: 'b', type: 'int' }]); // reads v2 (has b), not v1 (no b, no default)
    expect(checkAvroCompatibility(v3, [v1, v2], 'BACKWARD').compatible).toBe(true);
    expect(checkAvroCompatibility(v3, [v1, v2], 'BACKWARD_TRANSITIVE').compatible).toBe(false);
  });
});

describe('canonical form and the store fold', () => {
  it('ignores whitespace and key order but not defaults', () => {
    const a = canonicalize(JSON.stringify(base), 'AVRO');
    expect(canonicalize(JSON.stringify({ fields: [{ type: 'int', name: 'a' }], name: 'R', type: 'record' }, null, 2), 'AVRO')).toBe(a);
    expect(canonicalize(JSON.stringify(rec([{ name: 'a', type: 'int', default: 1 }])), 'AVRO')).not.toBe(a);
  });

  it('the first record to claim an id wins; a conflicting later claim is ignored', () => {
    const s = new RegistryState();
    s.apply({ keytype: 'SCHEMA', subject: 'x', version: 1, magic: 1 }, { subject: 'x', version: 1, id: 1, schema: JSON.stringify(base), deleted: false });
    s.apply({ keytype: 'SCHEMA', subject: 'y', version: 1, magic: 1 }, { subject: 'y', version: 1, id: 1, schema: JSON.stringify(rec([{ name: 'z', type: 'int' }])), deleted: false });
    expect(s.list('y')).toEqual([]);
    expect(s.byId.get(1)?.schema).toBe(JSON.stringify(base));
    s.apply({ keytype: 'SCHEMA', subject: 'x', version: 1, magic: 1 }, null);
    expect(s.subjects(true)).toEqual([]);
    expect(s.byId.has(1)).toBe(true);
  });
});
