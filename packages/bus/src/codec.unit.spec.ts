import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { EVENT_TYPES, eventAvroType, sampleEvents, topicsFor, type ConnectorEvent } from '@preflight/events';
import { EventCodec } from './codec.js';

/** A registry in memory: ids in registration order, schemas back by id. Pure, no HTTP. */
function memoryRegistry(): SchemaRegistry {
  const schemas: string[] = [];
  return {
    register: async ({ schema }: { schema: string }) => {
      schemas.push(schema);
      return { id: 100 + schemas.length };
    },
    getSchema: async (id: number) => avro.Type.forSchema(JSON.parse(schemas[id - 101]!) as avro.Schema),
  } as unknown as SchemaRegistry;
}

const topics = topicsFor('u.');
/** The wire frame written the slow, obvious way: a zeroed 5-byte header with the id, then the body. */
const frameOf = (id: number, type: avro.Type, value: unknown): Buffer => {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
};
const eventFrameOf = (id: number, e: ConnectorEvent): Buffer => frameOf(id, eventAvroType(e.eventType), e);

describe('EventCodec wire format', () => {
  it('frames every event type exactly as magic byte + schema id + Avro body, and decodes it back', async () => {
    const codec = new EventCodec('http://registry.invalid', memoryRegistry());
    const ids = await codec.registerAll(topics, EVENT_TYPES);
    for (const e of Object.values(sampleEvents())) {
      const bytes = codec.encode(topics.of(e.eventType), e);
      expect(bytes.equals(eventFrameOf(ids.get(e.eventType)!, e)), e.eventType).toBe(true);
      expect(await codec.decode(bytes, e.eventType)).toEqual(eventAvroType(e.eventType).fromBuffer(eventAvroType(e.eventType).toBuffer(e)));
    }
  });

  it('an event larger than the scratch buffer grows it, and the frames before and after stay intact', async () => {
    const codec = new EventCodec('http://registry.invalid', memoryRegistry());
    const ids = await codec.registerAll(topics, ['connector.registered']);
    const small = sampleEvents()['connector.registered'];
    const big = { ...small, spec: { ...small.spec, contractYaml: 'x'.repeat(300_000) } };
    const topic = topics.of('connector.registered');
    const first = codec.encode(topic, small);
    const large = codec.encode(topic, big);
    const after = codec.encode(topic, small);
    expect(large.length).toBeGreaterThan(300_000);
    expect(large.equals(eventFrameOf(ids.get('connector.registered')!, big))).toBe(true);
    // Each frame is its own copy: encoding the next event does not change one already handed out.
    expect(first.equals(eventFrameOf(ids.get('connector.registered')!, small))).toBe(true);
    expect(after.equals(first)).toBe(true);
    expect(((await codec.decode(large, 'connector.registered')) as typeof big).spec.contractYaml).toHaveLength(300_000);
  });

  it('encodeAvro writes the same frame as encode for the same schema id and value, and decodeAvro reads it back', async () => {
    const codec = new EventCodec('http://registry.invalid', memoryRegistry());
    const ids = await codec.registerAll(topics, EVENT_TYPES);
    for (const e of Object.values(sampleEvents())) {
      const viaEncodeAvro = codec.encodeAvro(ids.get(e.eventType)!, eventAvroType(e.eventType), e);
      expect(viaEncodeAvro.equals(codec.encode(topics.of(e.eventType), e)), e.eventType).toBe(true);
    }
    // A non-event schema, larger than the scratch buffer, goes through the same frame.
    const state = avro.Type.forSchema({ type: 'record', name: 'State', fields: [{ name: 'blob', type: 'string' }] });
    const stateId = await codec.registerAvro('u.state-value', state.schema() as object);
    const value = { blob: 'y'.repeat(200_000) };
    const bytes = codec.encodeAvro(stateId, state, value);
    expect(bytes.equals(frameOf(stateId, state, value))).toBe(true);
    expect(await codec.decodeAvro<typeof value>(bytes, state)).toEqual(value);
  });

  it('encodeAvro rejects a value that does not match its schema as VALIDATION, not retriable', () => {
    const codec = new EventCodec('http://registry.invalid', memoryRegistry());
    const state = avro.Type.forSchema({ type: 'record', name: 'State', fields: [{ name: 'n', type: 'int' }] });
    expect(() => codec.encodeAvro(7, state, { n: 'one' })).toThrow(expect.objectContaining({ code: 'VALIDATION', retriable: false }));
  });

  it('names the offending field when an event does not match its schema', async () => {
    const codec = new EventCodec('http://registry.invalid', memoryRegistry());
    await codec.registerAll(topics, ['connector.registered']);
    const bad = { ...sampleEvents()['connector.registered'], autoPreflight: 'yes' } as unknown as ConnectorEvent;
    expect(() => codec.encode(topics.of('connector.registered'), bad)).toThrow(/autoPreflight/);
  });
});
