import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { Consumer, Producer } from 'kafkajs';
import { readTopics, retryRetriable, type Bus } from '@preflight/bus';
import { type Logger } from '@preflight/core';
import { EVENT_TYPES, subjectFor, type ConnectorEvent, type EventType } from '@preflight/events';
import { Projection, type ProjectionSnapshot } from './projection.js';
import type { ConnectorState } from './state.js';

const STATE_SCHEMA = JSON.parse(readFileSync(new URL('../../../schemas/state/connector-state.v1.avsc', import.meta.url), 'utf8')) as avro.Schema;
const stateType = avro.Type.forSchema(STATE_SCHEMA);
const PROJECTION_KEY = '__projection__';

interface StateRecord {
  kind: 'CONNECTOR' | 'PROJECTION';
  connectorId: string;
  tenantId: string;
  status: string;
  updatedAt: string;
  snapshotAt: string;
  stateJson: string;
}

export interface ProjectorRunnerOptions {
  bus: Bus;
  logger: Logger;
  groupId?: string;
  snapshotEveryMs?: number;
  onApplied?: () => void;
}

/**
 * The projector's Kafka adapter: restores from the compacted snapshot topic, then folds the event
 * topics from the snapshot's offsets, in batches, and writes a new snapshot every few seconds.
 * Consistency: a snapshot is taken between two events, so its state and offsets always match.
 */
export class ProjectorRunner {
  projection = new Projection();
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stateSchemaId = 0;
  private dirty = new Set<string>();
  private projectionDirty = false;
  caughtUp = false;
  restoredFromSnapshot = false;
  foldedSinceStart = 0;

  constructor(private readonly options: ProjectorRunnerOptions) {}

  private get topics(): string[] {
    return EVENT_TYPES.map((t) => this.options.bus.topics.of(t));
  }

  async start(): Promise<void> {
    const { bus } = this.options;
    // Every dependency on the registry client goes through the bus's codec.
    this.stateSchemaId = await bus.codec.registerAvro(subjectFor(bus.topics.state), STATE_SCHEMA as object);
    this.producer = bus.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    await this.restore();
    await this.consume();
    this.timer = setInterval(() => void this.snapshot().catch((e: unknown) => this.options.logger.warn({ err: e }, 'snapshot failed; will retry')), this.options.snapshotEveryMs ?? 2_000);
  }

  /** Loads the latest snapshot records (compaction keeps one per key). */
  private async restore(): Promise<void> {
    const connectors = new Map<string, ConnectorState>();
    let projection: Omit<ProjectionSnapshot, 'connectors'> | undefined;
    await readTopics(this.options.bus.kafka, [this.options.bus.topics.state], (_t, _p, _o, value, key) => {
      const k = key?.toString() ?? '';
      if (!value) {
        connectors.delete(k);
        return;
      }
      const rec = stateType.fromBuffer(value.subarray(5)) as StateRecord;
      if (rec.kind === 'PROJECTION') projection = JSON.parse(rec.stateJson) as Omit<ProjectionSnapshot, 'connectors'>;
      else connectors.set(rec.connectorId, JSON.parse(rec.stateJson) as ConnectorState);
    });
    if (projection) {
      this.projection = Projection.fromSnapshot({ ...projection, connectors: [...connectors.values()] });
      this.restoredFromSnapshot = true;
      this.options.logger.info({ connectors: connectors.size }, 'projector restored from snapshot');
    }
  }

  private async consume(): Promise<void> {
    const { bus, logger } = this.options;
    const groupId = this.options.groupId ?? `${bus.topics.prefix}preflight.projector`;
    const consumer = bus.kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    this.consumer = consumer;
    await consumer.connect();
    await retryRetriable(() => consumer.subscribe({ topics: this.topics, fromBeginning: true }));
    // Resume exactly where the snapshot stopped, whatever the group committed before.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) consumer.seek({ topic, partition, offset: this.projection.offsets[`${topic}:${partition}`] ?? '0' });
      }
    });
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const type = bus.topics.typeOf(batch.topic) as EventType;
        const from = BigInt(this.projection.offsets[`${batch.topic}:${batch.partition}`] ?? '0');
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= from) {
            try {
              const e = await bus.codec.decode(m.value, type);
              if (this.projection.apply(e, { topic: batch.topic, partition: batch.partition, offset: m.offset })) {
                this.dirty.add(e.connectorId);
                this.foldedSinceStart++;
              }
            } catch (err) {
              // The services dead-letter what they cannot decode; the read side skips it and says so.
              logger.warn({ err, topic: batch.topic, offset: m.offset }, 'projector skipped an undecodable event');
              this.projection.offsets[`${batch.topic}:${batch.partition}`] = (BigInt(m.offset) + 1n).toString();
            }
            this.projectionDirty = true;
          }
          payload.resolveOffset(m.offset);
        }
        await payload.heartbeat();
        await payload.commitOffsetsIfNecessary();
        this.options.onApplied?.();
      },
    });
  }

  /** Writes the connectors that changed and the projection record, in one request. */
  async snapshot(): Promise<void> {
    if (!this.producer || (!this.projectionDirty && this.dirty.size === 0)) return;
    const snap = this.projection.toSnapshot();
    const changed = [...this.dirty];
    this.dirty.clear();
    this.projectionDirty = false;
    const now = new Date().toISOString();
    const header = Buffer.alloc(5);
    header.writeUInt32BE(this.stateSchemaId, 1);
    const enc = (r: StateRecord): Buffer => Buffer.concat([header, stateType.toBuffer(r)]);
    const messages = changed.flatMap((id) => {
      const c = this.projection.connectors.get(id);
      return c ? [{ key: id, value: enc({ kind: 'CONNECTOR', connectorId: id, tenantId: c.tenantId, status: c.status, updatedAt: c.updatedAt, snapshotAt: now, stateJson: JSON.stringify(c) }) }] : [];
    });
    const { connectors: _c, ...rest } = snap;
    messages.push({ key: PROJECTION_KEY, value: enc({ kind: 'PROJECTION', connectorId: PROJECTION_KEY, tenantId: '', status: '', updatedAt: now, snapshotAt: now, stateJson: JSON.stringify(rest) }) });
    try {
      // Stay well under the broker's 1 MiB record-batch limit, whatever the number of changes.
      let chunk: typeof messages = [];
      let size = 0;
      for (const m of messages) {
        if (chunk.length > 0 && size + m.value.length > 512 * 1024) {
          await this.producer.send({ topic: this.options.bus.topics.state, acks: -1, messages: chunk });
          chunk = [];
          size = 0;
        }
        chunk.push(m);
        size += m.value.length;
      }
      if (chunk.length) await this.producer.send({ topic: this.options.bus.topics.state, acks: -1, messages: chunk });
    } catch (e) {
      for (const id of changed) this.dirty.add(id);
      this.projectionDirty = true;
      throw e;
    }
  }

  /**
   * A fresh fold of the whole event log, without touching the live projection. Events are folded
   * in the order they happened (occurredAt, then eventId), which is the order the live fold sees
   * up to cross-topic arrival jitter.
   */
  async foldLog(): Promise<Projection> {
    const { bus } = this.options;
    const all: Array<{ e: ConnectorEvent; at: { topic: string; partition: number; offset: string } }> = [];
    const p = new Projection();
    for (const topic of this.topics) {
      const type = bus.topics.typeOf(topic) as EventType;
      await readTopics(bus.kafka, [topic], async (t, partition, offset, value) => {
        try {
          all.push({ e: await bus.codec.decode(value, type), at: { topic: t, partition, offset } });
        } catch {
          p.offsets[`${t}:${partition}`] = (BigInt(offset) + 1n).toString();
        }
      });
    }
    all.sort((x, y) => x.e.occurredAt.localeCompare(y.e.occurredAt) || x.e.eventId.localeCompare(y.e.eventId));
    for (const { e, at } of all) p.apply(e, at);
    return p;
  }

  /** Replaces the live projection by a fold of the whole log (an operator's repair). */
  async rebuild(): Promise<{ events: number; connectors: number }> {
    const p = await this.foldLog();
    this.projection = p;
    for (const id of p.connectors.keys()) this.dirty.add(id);
    this.projectionDirty = true;
    await this.snapshot();
    return { events: p.applied, connectors: p.connectors.size };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.consumer?.disconnect();
    await this.snapshot().catch(() => undefined);
    await this.producer?.disconnect();
  }
}
