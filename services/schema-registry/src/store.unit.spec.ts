import { describe, expect, it } from 'vitest';
import { decodeRecord } from './log.js';
import { configKey, deleteSubjectKey, modeKey, NOOP_KEY, RegistryState, schemaIdentity, schemaKey, type LogRecord } from './store.js';

const avro = (name: string): string => JSON.stringify({ type: 'record', name, fields: [{ name: 'a', type: 'int' }] });
const put = (subject: string, version: number, id: number, schema: string, extra: Record<string, unknown> = {}): LogRecord => ({
  key: schemaKey(subject, version),
  value: { subject, version, id, schema, deleted: false, ...extra },
});
const fold = (records: LogRecord[]): RegistryState => {
  const s = new RegistryState();
  for (const r of records) s.apply(r);
  return s;
};

describe('the fold over _schemas records', () => {
  it('builds subjects, versions and ids; ids map to one schema shared across subjects', () => {
    const s = fold([put('a', 1, 1, avro('A')), put('b', 1, 1, avro('A')), put('a', 2, 2, avro('B'))]);
    expect(s.subjects()).toEqual(['a', 'b']);
    expect(s.list('a').map((v) => [v.version, v.id])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(s.usesOf(1)).toEqual([
      { subject: 'a', version: 1 },
      { subject: 'b', version: 1 },
    ]);
    expect(s.maxId).toBe(2);
    expect(s.idFor(schemaIdentity(avro('B'), 'AVRO', []))).toBe(2);
  });

  it("lets a key's latest record win, as compaction does", () => {
    const s = fold([put('a', 1, 1, avro('A')), put('a', 1, 1, avro('A'), { deleted: true })]);
    expect(s.list('a')).toEqual([]);
    expect(s.list('a', true)[0]?.deleted).toBe(true);
    expect(s.nextVersion('a')).toBe(2);
  });

  it('removes a version on a tombstone but keeps its id resolvable in this process', () => {
    const s = fold([put('a', 1, 1, avro('A')), { key: schemaKey('a', 1), value: null }]);
    expect(s.subjects(true)).toEqual([]);
    expect(s.byId.get(1)?.schema).toBe(avro('A'));
    expect(s.nextVersion('a')).toBe(1);
  });

  it('soft-deletes every version up to the DELETE_SUBJECT watermark', () => {
    const s = fold([put('a', 1, 1, avro('A')), put('a', 2, 2, avro('B')), { key: deleteSubjectKey('a'), value: { subject: 'a', version: 1 } }]);
    expect(s.list('a').map((v) => v.version)).toEqual([2]);
    expect(s.list('a', true).map((v) => v.version)).toEqual([1, 2]);
  });

  it('reads global and subject CONFIG and MODE, tombstones restoring the defaults', () => {
    const s = fold([
      { key: configKey(null), value: { compatibilityLevel: 'FULL' } },
      { key: configKey('a'), value: { compatibilityLevel: 'NONE' } },
      { key: modeKey(null), value: { mode: 'READONLY' } },
      { key: modeKey('a'), value: { mode: 'READWRITE' } },
    ]);
    expect([s.globalLevel, s.levelFor('a'), s.levelFor('b'), s.globalMode, s.modeFor('a'), s.modeFor('b')]).toEqual(['FULL', 'NONE', 'FULL', 'READONLY', 'READWRITE', 'READONLY']);
    for (const r of [configKey(null), configKey('a'), modeKey(null), modeKey('a')]) s.apply({ key: r, value: null });
    expect([s.globalLevel, s.levelFor('a'), s.globalMode, s.modeFor('a')]).toEqual(['BACKWARD', 'BACKWARD', 'READWRITE', 'READWRITE']);
  });

  it('skips a record that claims an id bound to another schema, and records without an id or schema', () => {
    const s = fold([put('a', 1, 1, avro('A')), put('b', 1, 1, avro('Other')), { key: schemaKey('c', 1), value: { schema: avro('C') } }, { key: NOOP_KEY, value: null }]);
    expect(s.subjects(true)).toEqual(['a']);
    expect(s.conflicts).toBe(2);
  });

  it('keeps foreign records that do not parse, so their ids stay served', () => {
    const s = fold([put('x', 1, 5, 'syntax = "proto3";', { schemaType: 'PROTOBUF' }), put('y', 1, 6, '{not json')]);
    expect(s.byId.get(5)?.schemaType).toBe('PROTOBUF');
    expect(s.byId.get(6)?.schema).toBe('{not json');
  });

  it('finds who references a version, ignoring soft-deleted referrers', () => {
    const ref = { name: 'A', subject: 'a', version: 1 };
    const s = fold([put('a', 1, 1, avro('A')), put('r', 1, 2, avro('R'), { references: [ref] })]);
    expect(s.referencedBy('a', 1)).toEqual([2]);
    s.apply(put('r', 1, 2, avro('R'), { references: [ref], deleted: true }));
    expect(s.referencedBy('a', 1)).toEqual([]);
  });
});

describe('schema identity', () => {
  it('depends on the type and the references, not on formatting', () => {
    const a = schemaIdentity(avro('A'), 'AVRO', []);
    expect(schemaIdentity(JSON.stringify(JSON.parse(avro('A')), null, 2), 'AVRO', [])).toBe(a);
    expect(schemaIdentity(avro('A'), 'JSON', [])).not.toBe(a);
    expect(schemaIdentity(avro('A'), 'AVRO', [{ name: 'x', subject: 's', version: 1 }])).not.toBe(a);
    expect(schemaIdentity('{"b":1,"a":2}', 'JSON', [])).toBe(schemaIdentity('{"a":2, "b":1}', 'JSON', []));
  });

  it('includes a data contract only when there is one, so ids of records written before contracts stay', () => {
    const a = schemaIdentity(avro('A'), 'AVRO', []);
    expect(a).toBe(`AVRO|${JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'a', type: 'int' }] })}|[]`);
    expect(schemaIdentity(avro('A'), 'AVRO', [], { metadata: {}, ruleSet: {} })).toBe(a);
    const tagged = schemaIdentity(avro('A'), 'AVRO', [], { metadata: { tags: { a: ['PII'] } } });
    expect(tagged).not.toBe(a);
    expect(schemaIdentity(avro('A'), 'AVRO', [], { metadata: { properties: { owner: 'x' } } })).not.toBe(tagged);
  });

  it('gives PROTOBUF text the identity of its canonical print: comments and layout do not count', () => {
    const p = 'syntax = "proto3";\n// a message\nmessage A {\n  int32 a = 1;\n}\n';
    expect(schemaIdentity(p, 'PROTOBUF', [])).toBe(schemaIdentity('syntax="proto3"; message A { int32 a = 1; }', 'PROTOBUF', []));
    expect(schemaIdentity(p, 'PROTOBUF', [])).not.toBe(schemaIdentity('syntax="proto3"; message A { int64 a = 1; }', 'PROTOBUF', []));
    expect(schemaIdentity('not a proto {', 'PROTOBUF', [])).toBe('PROTOBUF|raw:not a proto {|[]');
  });

  it('folds metadata and rule sets into versions, and CONFIG records into per-subject contract defaults', () => {
    const metadata = { properties: { owner: 'x' } };
    const s = fold([
      put('a', 1, 1, avro('A'), { metadata, ruleSet: { domainRules: [{ name: 'r', type: 'CEL', mode: 'WRITE' }] } }),
      put('a', 2, 2, avro('B'), { metadata: { tags: 'not an object' } }),
      { key: configKey('a'), value: { compatibilityLevel: 'FULL', defaultMetadata: metadata } },
      { key: configKey('b'), value: { overrideRuleSet: { domainRules: [{ name: 'o', type: 'CEL', mode: 'READ' }] } } },
      { key: configKey(null), value: { compatibilityLevel: 'NONE', overrideMetadata: { sensitive: ['k'] } } },
    ]);
    expect(s.get('a', 1)).toMatchObject({ metadata, ruleSet: { domainRules: [{ name: 'r', kind: 'TRANSFORM', mode: 'WRITE', type: 'CEL' }] } });
    expect(s.get('a', 2)?.metadata).toBeUndefined(); // a foreign writer's bad metadata does not cost the version
    expect(s.levelFor('a')).toBe('FULL');
    expect(s.levelFor('b')).toBe('NONE');
    expect(s.contractConfigFor('a')).toEqual({ overrideMetadata: { sensitive: ['k'] }, defaultMetadata: metadata });
    expect(s.contractConfigFor('b').overrideRuleSet?.domainRules?.[0]?.name).toBe('o');
    const cleared = fold([{ key: configKey('a'), value: { defaultMetadata: metadata } }, { key: configKey('a'), value: null }]);
    expect(cleared.contractConfigFor('a')).toEqual({});
  });
});

describe('decoding topic records', () => {
  const msg = (key: unknown, value: unknown): { key: Buffer | null; value: Buffer | null } => ({
    key: key === null ? null : Buffer.from(typeof key === 'string' ? key : JSON.stringify(key)),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  });

  it('reads Confluent keys and values, tombstones included', () => {
    expect(decodeRecord(msg({ keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 }, { id: 1 }))).toEqual({ key: { keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 }, value: { id: 1 } });
    expect(decodeRecord(msg({ keytype: 'NOOP', magic: 0 }, null))?.value).toBeNull();
  });

  it('ignores what is not a registry record instead of failing', () => {
    for (const m of [msg(null, null), msg('not json', null), msg({ keytype: 'BANANA' }, null), msg({ keytype: 'SCHEMA' }, '[1]'), msg({ keytype: 'SCHEMA' }, '{bad')]) {
      expect(decodeRecord(m)).toBeUndefined();
    }
  });
});
