import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_CATALOG, EVENT_TYPES, eventAvroType, eventSchema, sampleEvents, topicsFor } from './index.js';

function fieldNames(schema: Record<string, unknown>): string[] {
  return (schema['fields'] as Array<{ name: string }>).map((f) => f.name).sort();
}

describe('event schemas and TypeScript types', () => {
  const samples = sampleEvents();

  it('has a sample for every event type in the catalog', () => {
    expect(Object.keys(samples).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(EVENT_TYPES)('%s: the typed sample has exactly the schema fields and round-trips through avsc', (type) => {
    const sample = samples[type];
    const schema = eventSchema(type);
    expect(Object.keys(sample).sort()).toEqual(fieldNames(schema));
    const avroType = eventAvroType(type);
    const errors: string[] = [];
    const valid = avroType.isValid(sample, { errorHook: (path) => errors.push(path.join('.')) });
    expect(errors).toEqual([]);
    expect(valid).toBe(true);
    const decoded: unknown = avroType.fromBuffer(avroType.toBuffer(sample));
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(sample);
    expect(sample.eventVersion).toBe(EVENT_CATALOG[type].version);
  });

  it('every schema carries the envelope fields', () => {
    const envelope = ['actor', 'causationId', 'connectorId', 'correlationId', 'eventId', 'eventType', 'eventVersion', 'idempotencyKey', 'occurredAt', 'producer', 'tenantId', 'traceparent'];
    for (const type of EVENT_TYPES) expect(fieldNames(eventSchema(type))).toEqual(expect.arrayContaining(envelope));
  });

  it('every schema file on disk is in the catalog, and the other way round', () => {
    const dir = fileURLToPath(new URL('../../../schemas/events/connector/', import.meta.url));
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.avsc')).map((f) => f.replace(/\.v\d+\.avsc$/, '')).sort();
    expect([...new Set(onDisk)]).toEqual(EVENT_TYPES.map((t) => EVENT_CATALOG[t].file).sort());
  });

  it('a schema.checked v1 reads as v2: every expectation an error, without failed-row samples', () => {
    const v1 = eventAvroType('connector.schema.checked', 1);
    const { severity: _s, ruleSeverity: _r, unexpectedRows: _u, ...oldResult } = samples['connector.schema.checked'].checkpoint!.results[0]!;
    const old = { ...samples['connector.schema.checked'], eventVersion: 1, checkpoint: { ...samples['connector.schema.checked'].checkpoint!, results: [oldResult] } };
    const reader = eventAvroType('connector.schema.checked');
    const read = reader.fromBuffer(v1.toBuffer(old), reader.createResolver(avro.Type.forSchema(eventSchema('connector.schema.checked', 1) as avro.Schema))) as typeof old;
    expect(read.checkpoint.results[0]).toEqual({ ...oldResult, severity: 'error', ruleSeverity: null, unexpectedRows: [] });
  });

  it.each(['connector.registered', 'connector.handshake'] as const)('a %s v1 (written before contract facts were carried) reads as v2 with contractFacts null', (type) => {
    const v1 = eventAvroType(type, 1);
    const { contractFacts: _f, ...old } = { ...samples[type], eventVersion: 1 };
    const reader = eventAvroType(type);
    const read = reader.fromBuffer(v1.toBuffer(old), reader.createResolver(avro.Type.forSchema(eventSchema(type, 1) as avro.Schema))) as Record<string, unknown>;
    expect(read).toEqual({ ...old, contractFacts: null });
    // And the v2 sample really carries them, through a round trip, nested records and all.
    expect(samples[type].contractFacts?.server?.port).toBe(5432);
    expect((reader.fromBuffer(reader.toBuffer(samples[type])) as typeof samples[typeof type]).contractFacts).toEqual(samples[type].contractFacts);
  });

  it('rejects a sample whose field has the wrong type (the drift check can fail)', () => {
    const bad = { ...samples['connector.handshake'], attempts: 'one' };
    expect(eventAvroType('connector.handshake').isValid(bad)).toBe(false);
  });

  it('prefixes topic names per deployment and maps them back', () => {
    const t = topicsFor('t123.');
    expect(t.of('connector.validated')).toBe('t123.connector.validated');
    expect(t.typeOf('t123.connector.validated')).toBe('connector.validated');
    expect(t.dlq(t.of('connector.handshake'))).toBe('t123.connector.handshake.dlq');
    expect(t.typeOf('connector.validated')).toBeUndefined();
  });
});

describe('derived event ids', () => {
  it('are stable UUIDs for the same inputs and differ otherwise', async () => {
    const { derivedEventId } = await import('./index.js');
    const a = derivedEventId('e1', 'connector.handshake');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedEventId('e1', 'connector.handshake')).toBe(a);
    expect(derivedEventId('e2', 'connector.handshake')).not.toBe(a);
  });
});
