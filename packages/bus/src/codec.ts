import avro from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { PreflightError } from '@preflight/core';
import { schemaRegistryClientArgs, type RegistryClientOptions } from './config.js';
import { eventAvroType, eventSchema, subjectFor, type ConnectorEvent, type EventType, type Topics } from '@preflight/events';

const MAGIC = 0;

/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body).
 * Schema ids are resolved once per topic at start; decoding builds one resolver per writer schema
 * id, from the writer's schema to our reader schema, and reuses it for every later message.
 */
export class EventCodec {
  readonly registry: SchemaRegistry;
  private readonly writerIds = new Map<string, number>();
  private readonly resolvers = new Map<string, { reader: avro.Type; resolver: avro.Resolver }>();
  private readonly pendingResolvers = new Map<string, Promise<{ reader: avro.Type; resolver: avro.Resolver }>>();
  private readonly readerKeys = new WeakMap<avro.Type, string>();
  private scratch = Buffer.allocUnsafe(64 * 1024);

  constructor(registryUrl: string, registry?: SchemaRegistry, client?: RegistryClientOptions) {
    this.registry = registry ?? new SchemaRegistry({ ...schemaRegistryClientArgs(registryUrl, client), retry: { retries: 3 } });
  }

  /** Registers the current schema of each event type under `<topic>-value` and remembers its id. */
  async registerAll(topics: Topics, types: readonly EventType[]): Promise<Map<EventType, number>> {
    const out = new Map<EventType, number>();
    for (const type of types) {
      const topic = topics.of(type);
      const { id } = await this.registry
        .register({ type: SchemaType.AVRO, schema: JSON.stringify(eventSchema(type)) }, { subject: subjectFor(topic) })
        .catch((e: unknown) => {
          throw new PreflightError('SCHEMA_REGISTRY', `could not register the schema of ${type} under ${subjectFor(topic)}: ${(e as Error).message}`, { cause: e });
        });
      this.writerIds.set(topic, id);
      out.set(type, id);
    }
    return out;
  }

  /** Registers an Avro schema that is not an event's (a state topic's, say) and answers its id. */
  async registerAvro(subject: string, schema: object): Promise<number> {
    try {
      return (await this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject })).id;
    } catch (e) {
      throw new PreflightError('SCHEMA_REGISTRY', `could not register the schema under ${subject}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Equal schemas share one resolver per writer, whichever Type instance asks. */
  private readerKey(reader: avro.Type): string {
    let key = this.readerKeys.get(reader);
    if (!key) {
      key = `avro:${reader.fingerprint('sha256').toString('hex')}`;
      this.readerKeys.set(reader, key);
    }
    return key;
  }

  writerIdFor(topic: string): number | undefined {
    return this.writerIds.get(topic);
  }

  encode(topic: string, event: ConnectorEvent): Buffer {
    const id = this.writerIds.get(topic);
    if (id === undefined) throw new PreflightError('BUS', `no schema registered for topic ${topic}; call registerAll first`, { retriable: false });
    const type = eventAvroType(event.eventType);
    try {
      return this.frame(type, id, event);
    } catch (e) {
      // Only the failure path pays for the full walk that names every offending field.
      const paths: string[] = [];
      type.isValid(event, { errorHook: (p) => paths.push(p.join('.')) });
      throw new PreflightError('VALIDATION', `event ${event.eventType} does not match its schema at: ${paths.join(', ') || (e as Error).message}`, {
        cause: e,
        retriable: false,
        issues: paths.map((field) => ({ field, message: 'does not match the Avro schema' })),
      });
    }
  }

  /**
   * The one writer of the wire frame, for events and non-event values alike: magic byte, schema id
   * and Avro body go into one reused scratch buffer and the frame is copied out once (a pooled
   * allocation for small values). `toBuffer` + a header + `Buffer.concat` made three buffers per
   * value, one of them a zero-filled, unpooled one.
   */
  private frame(type: avro.Type, id: number, value: unknown): Buffer {
    let end = type.encode(value, this.scratch, 5);
    if (end < 0) {
      // Too small by -end bytes (a large receipt or contract): grow for this and later values.
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.scratch.length - end));
      end = type.encode(value, this.scratch, 5);
    }
    this.scratch[0] = MAGIC;
    this.scratch.writeUInt32BE(id, 1);
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    return out;
  }

  /**
   * A value of a schema that is not an event's (a compacted state topic's, registered with
   * `registerAvro`), in the same wire format as every event.
   */
  encodeAvro(schemaId: number, type: avro.Type, value: unknown): Buffer {
    try {
      return this.frame(type, schemaId, value);
    } catch (e) {
      throw new PreflightError('VALIDATION', `a ${type.name ?? 'record'} does not match its Avro schema: ${(e as Error).message}`, { cause: e, retriable: false });
    }
  }

  /**
   * Decodes a wire-format value of a non-event schema into `reader`, resolved from whichever
   * registered schema wrote it. Errors are DECODE (not retriable) unless the registry is away.
   */
  async decodeAvro<T>(value: Buffer | null, reader: avro.Type): Promise<T> {
    const id = schemaIdOf(value);
    // A resolver only works with the reader instance it was made for: the cached pair is used together.
    const cached = await this.resolverFor(id, this.readerKey(reader), () => reader);
    try {
      return cached.reader.fromBuffer(value!.subarray(5), cached.resolver) as T;
    } catch (e) {
      throw new PreflightError('DECODE', `Avro body does not decode with writer schema ${id}: ${(e as Error).message}`, { cause: e, retriable: false });
    }
  }

  /** Decodes a wire-format value into the reader type of `eventType`. Errors are DECODE, not retriable. */
  async decode(value: Buffer | null, eventType: EventType): Promise<ConnectorEvent> {
    const id = schemaIdOf(value);
    const { reader, resolver } = await this.resolverFor(id, eventType, () => eventAvroType(eventType));
    try {
      return reader.fromBuffer(value!.subarray(5), resolver) as ConnectorEvent;
    } catch (e) {
      throw new PreflightError('DECODE', `Avro body does not decode with writer schema ${id}: ${(e as Error).message}`, { cause: e, retriable: false });
    }
  }

  private resolverFor(id: number, readerName: string, readerType: () => avro.Type): Promise<{ reader: avro.Type; resolver: avro.Resolver }> {
    const key = `${id}:${readerName}`;
    const ready = this.resolvers.get(key);
    if (ready) return Promise.resolve(ready);
    let pending = this.pendingResolvers.get(key);
    if (!pending) {
      pending = (async () => {
        let writerJson: unknown;
        try {
          const writer = (await this.registry.getSchema(id)) as unknown as avro.Type;
          writerJson = writer.schema();
        } catch (e) {
          const status = (e as { status?: number }).status;
          // A 404 means the id will never resolve: dead-letter it. Anything else may pass.
          const unknownId = status === 404 || /not found/i.test((e as Error).message);
          throw new PreflightError(unknownId ? 'DECODE' : 'SCHEMA_REGISTRY', `schema id ${id} could not be fetched: ${(e as Error).message}`, {
            cause: e,
            retriable: !unknownId,
          });
        }
        const reader = readerType();
        let resolver: avro.Resolver;
        try {
          resolver = reader.createResolver(avro.Type.forSchema(writerJson as avro.Schema));
        } catch (e) {
          throw new PreflightError('DECODE', `writer schema ${id} cannot be read as ${readerName}: ${(e as Error).message}`, { cause: e, retriable: false });
        }
        const entry = { reader, resolver };
        this.resolvers.set(key, entry);
        return entry;
      })().finally(() => this.pendingResolvers.delete(key));
      this.pendingResolvers.set(key, pending);
    }
    return pending;
  }
}

/** The writer's schema id of a wire-format value; DECODE when the value is not in that format. */
function schemaIdOf(value: Buffer | null): number {
  if (!value || value.length < 5) throw new PreflightError('DECODE', `value is ${value ? `${value.length} bytes` : 'null'}, too short for the Confluent wire format`, { retriable: false });
  if (value.readUInt8(0) !== MAGIC) throw new PreflightError('DECODE', `unknown magic byte ${value.readUInt8(0)} (expected 0)`, { retriable: false });
  return value.readUInt32BE(1);
}
