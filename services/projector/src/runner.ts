import { readFileSync } from 'node:fs';
import type avro from 'avsc';
import type { CompactedRecord, CompactedTopic, DeadLetterSource, ServiceBus, Tail, TailBatch } from '@preflight/bus';
import { METRIC, toPreflightError, type Logger } from '@preflight/core';
import { EVENT_TYPES, serviceGroupId, type ConnectorEvent, type EventType } from '@preflight/events';
import { Projection } from './projection.js';
import { chooseSnapshot, connectorRecordKeys, digestOf, parseRecordJson, PROJECTION_KEY, snapshotKey, versionOf, type ConnectorRecordJson, type LoadedRecord, type ProjectionRecordJson } from './snapshot.js';

const STATE_SCHEMA = JSON.parse(readFileSync(new URL('../../../schemas/state/connector-state.v1.avsc', import.meta.url), 'utf8')) as avro.Schema;

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
  bus: ServiceBus;
  logger: Logger;
  groupId?: string;
  snapshotEveryMs?: number;
  /** Deadline of the operations the fold creates from request events. */
  operationTimeoutMs?: number;
  /**
   * Names this replica's snapshot records, so replicas that each fold the whole log never read
   * each other's snapshots; empty for a single projector.
   */
  instance?: string;
  onApplied?: () => void;
  /** Awaited before each batch is folded; lets a test hold the fold to observe catching up. */
  beforeBatch?: () => Promise<void>;
}

/** How the live projection came to be at start. */
export type RestoredFrom = 'nothing' | 'snapshot' | 'rebuild';

/**
 * The projector's Kafka adapter: restores from the compacted snapshot topic, then folds the event
 * topics from the snapshot's offsets, in batches, and writes a new snapshot every few seconds.
 * Consistency: a snapshot is taken between two events, so its state and offsets always match.
 */
export class ProjectorRunner {
  projection: Projection;
  private tail: Tail | undefined;
  /** The compacted snapshot topic, written and read through the bus's producer and codec. */
  private state: CompactedTopic<StateRecord> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dirty = new Set<string>();
  private projectionDirty = false;
  /** The version of each connector's last snapshot record that the broker acknowledged. */
  private written = new Map<string, number>();
  /** Snapshot writes, one at a time: a newer one never races an older one's retries. */
  private writes: Promise<void> = Promise.resolve();
  private writing = false;
  /** Log end offsets of the event topics when the projector started: `/readyz` waits for them. */
  private startEnds: Map<string, bigint> | undefined;
  private caughtUpLatched = false;
  restoredFrom: RestoredFrom = 'nothing';
  foldedSinceStart = 0;
  /** Records of the state topic and events that could not be decoded, dead-lettered and skipped. */
  readonly skipped = { stateRecords: 0, events: 0 };

  get restoredFromSnapshot(): boolean {
    return this.restoredFrom === 'snapshot';
  }

  private get instance(): string {
    return this.options.instance ?? '';
  }

  constructor(private readonly options: ProjectorRunnerOptions) {
    this.projection = new Projection(options.operationTimeoutMs);
  }

  private get topics(): string[] {
    return EVENT_TYPES.map((t) => this.options.bus.topics.of(t));
  }

  async start(): Promise<void> {
    const { bus } = this.options;
    const state = bus.compacted<StateRecord>(bus.topics.state, STATE_SCHEMA);
    await state.start();
    this.state = state;
    this.startEnds = await this.endOffsets();
    await this.restore();
    await this.consume();
    this.timer = setInterval(() => {
      if (this.writing) return; // the next tick takes whatever the running write leaves dirty
      this.snapshot().catch((e: unknown) => this.options.logger.warn({ err: e }, 'snapshot failed; will retry'));
    }, this.options.snapshotEveryMs ?? 2_000);
  }

  private endOffsets(): Promise<Map<string, bigint>> {
    return this.options.bus.withAdmin(async (admin) => {
      const ends = new Map<string, bigint>();
      for (const topic of this.topics) {
        for (const p of await admin.topicOffsets(topic)) {
          // An empty partition (or one whose records all expired) has nothing to catch up on.
          if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}:${p.partition}`, BigInt(p.high));
        }
      }
      return ends;
    });
  }

  /** Whether the projection has folded everything that was in the log when it started. */
  caughtUp(): boolean {
    if (this.caughtUpLatched) return true;
    if (!this.startEnds) return false;
    for (const [tp, end] of this.startEnds) if (BigInt(this.projection.offsets[tp] ?? '0') < end) return false;
    this.caughtUpLatched = true;
    return true;
  }

  /**
   * Loads the newest snapshot version per key (not the last record written) and verifies it against
   * the projection record; a record that cannot be decoded is dead-lettered and skipped, and a
   * snapshot that does not verify is replaced by a fold of the whole log.
   */
  private async restore(): Promise<void> {
    const { logger } = this.options;
    const records: LoadedRecord[] = [];
    const skip = async (source: DeadLetterSource, err: unknown): Promise<void> => {
      this.skipped.stateRecords++;
      logger.warn({ err, topic: source.topic, partition: source.partition, offset: source.offset, metric: METRIC.events_dead_lettered_total }, 'projector skipped a state record it cannot decode');
      await this.deadLetter(source, err);
    };
    await this.state!.read(async ({ key, value: rec }: CompactedRecord<StateRecord>, source) => {
      if (!rec) {
        records.push({ kind: 'TOMBSTONE', key });
        return;
      }
      let json: ConnectorRecordJson | ProjectionRecordJson;
      try {
        json = parseRecordJson(rec.kind, rec.stateJson);
      } catch (err) {
        return skip(source, err);
      }
      records.push(rec.kind === 'PROJECTION' ? { kind: 'PROJECTION', key, json: json as ProjectionRecordJson } : { kind: 'CONNECTOR', key, json: json as ConnectorRecordJson });
    }, skip);
    const choice = chooseSnapshot(records, this.instance);
    if (choice.kind === 'EMPTY') return;
    if (choice.kind === 'INCONSISTENT') {
      logger.warn({ reason: choice.reason }, 'projector snapshot does not verify; rebuilding from the log');
      this.projection = await this.foldLog();
      this.restoredFrom = 'rebuild';
      for (const id of this.projection.connectors.keys()) this.dirty.add(id);
      this.projectionDirty = true;
      await this.snapshot();
      return;
    }
    this.projection = Projection.fromSnapshot(choice.snapshot, this.options.operationTimeoutMs);
    this.written = choice.written;
    this.restoredFrom = 'snapshot';
    logger.info({ connectors: choice.written.size, version: choice.seq }, 'projector restored from snapshot');
  }

  /** The original bytes go to `<topic>.dlq` with why, as the services' consumers do. */
  private deadLetter(source: DeadLetterSource, err: unknown): Promise<void> {
    return this.options.bus.deadLetter(source, err, this.groupId);
  }

  private get groupId(): string {
    const { bus } = this.options;
    return this.options.groupId ?? serviceGroupId(bus.topics.prefix, 'projector', this.instance);
  }

  private async consume(): Promise<void> {
    this.tail = await this.options.bus.tail({
      groupId: this.groupId,
      topics: this.topics,
      // Resume exactly where the snapshot stopped, whatever the group committed before.
      startAt: (topic, partition) => this.projection.offsets[`${topic}:${partition}`] ?? '0',
      onBatch: (batch) => this.fold(batch),
    });
  }

  private async fold(batch: TailBatch): Promise<void> {
    const { bus, logger } = this.options;
    await this.options.beforeBatch?.();
    const type = bus.topics.typeOf(batch.topic) as EventType;
    const from = BigInt(this.projection.offsets[`${batch.topic}:${batch.partition}`] ?? '0');
    for (const m of batch.records) {
      if (BigInt(m.offset) >= from) {
        try {
          const e = await bus.codec.decode(m.value, type);
          if (this.projection.apply(e, { topic: batch.topic, partition: batch.partition, offset: m.offset })) {
            this.dirty.add(e.connectorId);
            this.foldedSinceStart++;
          }
        } catch (err) {
          if (toPreflightError(err, 'DECODE').retriable) throw err; // the registry is away: kafkajs retries the batch
          // Dead-lettered under the projector's own group, so a poison record shows on every consumer that met it.
          logger.warn({ err, topic: batch.topic, offset: m.offset, metric: METRIC.events_dead_lettered_total }, 'projector skipped an undecodable event');
          await this.deadLetter({ topic: batch.topic, partition: batch.partition, ...m }, err);
          this.skipped.events++;
          this.projection.offsets[`${batch.topic}:${batch.partition}`] = (BigInt(m.offset) + 1n).toString();
        }
        this.projectionDirty = true;
      }
      batch.resolveOffset(m.offset);
    }
    this.options.onApplied?.();
  }

  /**
   * Writes the connectors that changed and then the projection record, tagged with the version of
   * the offsets they cover. Writes are queued one behind the other.
   */
  snapshot(): Promise<void> {
    const run = this.writes.then(async () => {
      this.writing = true;
      try {
        await this.writeSnapshot();
      } finally {
        this.writing = false;
      }
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async writeSnapshot(): Promise<void> {
    if (!this.state || (!this.projectionDirty && this.dirty.size === 0)) return;
    const snap = this.projection.toSnapshot();
    const seq = versionOf(snap.offsets);
    const changed = [...this.dirty];
    this.dirty.clear();
    this.projectionDirty = false;
    const now = new Date().toISOString();
    const written = new Map(this.written);
    const records = changed.flatMap((id): Array<CompactedRecord<StateRecord>> => {
      const c = this.projection.connectors.get(id);
      if (!c) return [];
      written.set(id, seq);
      const json: ConnectorRecordJson = { v: 2, instance: this.instance, seq, state: c };
      const { key, tombstone } = connectorRecordKeys(this.instance, c);
      const record: CompactedRecord<StateRecord> = { key, value: { kind: 'CONNECTOR', connectorId: id, tenantId: c.tenantId, status: c.status, updatedAt: c.updatedAt, snapshotAt: now, stateJson: JSON.stringify(json) } };
      // The tombstone lands behind the live key's earlier records (same key, same partition); the retired record has a key of its own.
      return tombstone ? [{ key: tombstone, value: null }, record] : [record];
    });
    const { connectors: _c, ...rest } = snap;
    const pj: ProjectionRecordJson = { v: 2, instance: this.instance, seq, digest: digestOf(written), connectors: written.size, projection: rest };
    // Last, so that a crash between the two leaves connector records newer than the projection record: that does not verify and is rebuilt.
    records.push({ key: snapshotKey(this.instance, PROJECTION_KEY), value: { kind: 'PROJECTION', connectorId: PROJECTION_KEY, tenantId: '', status: '', updatedAt: now, snapshotAt: now, stateJson: JSON.stringify(pj) } });
    try {
      await this.state.write(records);
      this.written = written;
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
    const p = new Projection(this.options.operationTimeoutMs);
    for (const topic of this.topics) {
      const type = bus.topics.typeOf(topic) as EventType;
      await bus.readTopics([topic], async (t, partition, offset, value) => {
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
    await this.tail?.stop();
    await this.snapshot().catch(() => undefined);
  }
}
