import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Consumer, type KafkaConfig, type KafkaMessage, type Producer, type Transaction } from 'kafkajs';
import { PreflightError, type Logger } from '@preflight/core';
import { RegistryError, storeTimeout } from './errors.js';
import type { Decision, SchemaLog } from './registry.js';
import { NOOP_KEY, type LogRecord, type RecordKey } from './store.js';

export interface KafkaSchemaLogOptions {
  brokers: string;
  topic: string;
  logger?: Logger;
  /** How long one write may take end to end, retries included. */
  writeTimeoutMs?: number;
  /** TLS/SASL of the cluster, as the bus builds them from KAFKA_SSL_* / KAFKA_SASL_*. */
  kafkaClient?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

/** A step of a write did not finish in time: retried while the write's deadline allows. */
class LogTimeout extends Error {}

/** `p`, or a LogTimeout after `ms`; a late rejection of `p` is dropped, the caller has moved on. */
async function within<X>(p: Promise<X>, ms: number, what: string): Promise<X> {
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new LogTimeout(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const KEYTYPES = new Set(['SCHEMA', 'CONFIG', 'MODE', 'DELETE_SUBJECT', 'NOOP', 'CLEAR_SUBJECT', 'CONTEXT']);

export function decodeRecord(message: Pick<KafkaMessage, 'key' | 'value'>): LogRecord | undefined {
  try {
    const key = JSON.parse(message.key?.toString() ?? 'null') as unknown;
    if (!key || typeof key !== 'object' || !KEYTYPES.has(String((key as Record<string, unknown>)['keytype']))) return undefined;
    const value = message.value && message.value.length > 0 ? (JSON.parse(message.value.toString()) as unknown) : null;
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) return undefined;
    return { key: key as RecordKey, value: value as Record<string, unknown> | null };
  } catch {
    return undefined;
  }
}

/**
 * The `_schemas` topic as the registry's only storage, and the way writers take turns.
 *
 * Reading: every instance consumes the single partition from the first offset (read_committed) and
 * folds each record into its state; nothing is kept anywhere else.
 *
 * Writing: all instances share one Kafka transactional id per topic. A write takes the id (the
 * broker then fences every other holder: their open transaction is aborted and their next send or
 * commit fails), reads the topic up to a marker it appends (so every commit made before it is in
 * the state), decides, and commits its records in one transaction. A commit succeeds only if no
 * other instance took the id in between, so every committed decision was made on a state that
 * included every earlier commit: ids are max+1 of a complete state, and two instances never hand
 * out one id or one (subject, version) twice. A fenced writer takes the id back and decides again.
 * Records of aborted attempts never reach a read_committed reader and are dropped by compaction.
 */
export class KafkaSchemaLog implements SchemaLog {
  private readonly kafka: Kafka;
  /** Writes the NOOP markers reads wait for; not transactional, so it never fences anybody. */
  private readonly markers: Producer;
  private tx: Producer | undefined;
  private consumer: Consumer | undefined;
  /** Highest offset applied to the state. */
  private applied = -1n;
  private waiters: Array<{ offset: bigint; resolve: () => void }> = [];
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly topic: string;
  private readonly logger: Logger | undefined;
  private readonly writeTimeoutMs: number;

  constructor(
    options: KafkaSchemaLogOptions,
    private readonly onRecord: (r: LogRecord) => void,
  ) {
    this.topic = options.topic;
    this.logger = options.logger;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
    this.kafka = new Kafka({
      brokers: options.brokers.split(',').map((b) => b.trim()),
      clientId: 'schema-registry',
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100 },
      ...options.kafkaClient,
    });
    this.markers = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  private get transactionalId(): string {
    return `schema-registry:${this.topic}`;
  }

  async start(): Promise<void> {
    await this.ensureTopic();
    await this.markers.connect();
    // A fresh group each start: the state is rebuilt from the first record, never from a commit.
    const consumer = this.kafka.consumer({ groupId: `schema-registry-${randomUUID()}`, maxWaitTimeInMs: 100, readUncommitted: false, allowAutoTopicCreation: false });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => this.logger?.error({ err: e.payload.error, topic: this.topic }, 'schema log reader crashed'));
    await consumer.connect();
    // Leadership in the metadata can precede the broker hosting the partition: retry meanwhile.
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.subscribe({ topic: this.topic, fromBeginning: true });
        break;
      } catch (e) {
        if (!(e as { retriable?: boolean }).retriable || attempt >= 12) throw e;
        await sleep(Math.min(1_000, 50 * 2 ** attempt));
      }
    }
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => this.receive(message) });
    // Taking the transactional id once also aborts a transaction a crashed instance left open,
    // which would otherwise hold every read_committed reader back until it timed out.
    await this.exclusive(() => ({ records: [], result: undefined }));
  }

  private receive(message: KafkaMessage): void {
    const offset = BigInt(message.offset);
    if (offset <= this.applied) return; // redelivered after a rebalance: already in the state
    const record = decodeRecord(message);
    if (record) {
      try {
        this.onRecord(record);
      } catch (e) {
        this.logger?.error({ err: e, offset: message.offset }, 'could not apply a _schemas record; skipped');
      }
    } else {
      this.logger?.warn({ offset: message.offset, topic: this.topic }, 'skipped a record that is not a schema registry record');
    }
    this.applied = offset;
    this.release();
  }

  private async ensureTopic(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      if (!topics.includes(this.topic)) {
        // kafkajs would wait for leaders itself and give up on the first "does not host this
        // topic-partition" a fresh KRaft broker answers meanwhile; the loop below waits instead.
        await admin
          .createTopics({ waitForLeaders: false, topics: [{ topic: this.topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
          .catch((e: Error & { retriable?: boolean }) => {
            if (!/already exists/i.test(e.message) && !e.retriable) throw e;
          });
      }
      // A topic just created (by us or a peer) takes a moment to appear in every broker's
      // metadata; until then lookups fail with UNKNOWN_TOPIC_OR_PARTITION.
      let partitions: Array<{ leader: number }> = [];
      const until = Date.now() + this.writeTimeoutMs;
      for (;;) {
        try {
          const meta = await admin.fetchTopicMetadata({ topics: [this.topic] });
          partitions = meta.topics[0]?.partitions ?? [];
          if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) break;
        } catch (e) {
          if (Date.now() > until) throw e;
        }
        if (Date.now() > until) throw new PreflightError('BUS', `topic ${this.topic} has no leader after ${this.writeTimeoutMs} ms`);
        await sleep(100);
      }
      if (partitions.length !== 1) {
        throw new PreflightError('CONFIG', `topic ${this.topic} has ${partitions.length} partitions; the schema log needs exactly one so that every instance reads one order`, {
          details: { topic: this.topic, partitions: partitions.length },
        });
      }
      // Advisory only, and on a fresh cluster the broker asked may not host the new topic yet
      // ("does not host this topic-partition"): retry until the deadline, then say it was not checked.
      for (;;) {
        try {
          const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: this.topic, configNames: ['cleanup.policy'] }] });
          const policy = configs.resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue;
          if (policy !== 'compact') this.logger?.warn({ topic: this.topic, policy }, 'the schema topic is not compacted; deleted records will expire with retention');
          break;
        } catch (e) {
          if (Date.now() > until) {
            this.logger?.warn({ topic: this.topic, err: e }, 'could not check that the schema topic is compacted');
            break;
          }
          await sleep(200);
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  private release(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.offset <= this.applied) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private waitFor(offset: bigint, timeoutMs: number): Promise<void> {
    if (offset <= this.applied) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new LogTimeout(`reading ${this.topic} did not reach offset ${offset} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once every record committed before the call has been applied (Confluent's NOOP marker). */
  async sync(timeoutMs = this.writeTimeoutMs): Promise<void> {
    const started = Date.now();
    const sent = this.markers.send({ topic: this.topic, acks: -1, messages: [{ key: JSON.stringify(NOOP_KEY), value: null }] });
    const [meta] = await within(sent, timeoutMs, `writing a marker to ${this.topic}`);
    await this.waitFor(BigInt(meta?.baseOffset ?? '-1'), Math.max(1, timeoutMs - (Date.now() - started)));
  }

  private async transactional(): Promise<Producer> {
    if (!this.tx) {
      const p = this.kafka.producer({ transactionalId: this.transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 10_000, allowAutoTopicCreation: false });
      await p.connect();
      this.tx = p;
    }
    return this.tx;
  }

  private async dropTransactional(): Promise<void> {
    const p = this.tx;
    this.tx = undefined;
    await p?.disconnect().catch(() => undefined);
  }

  exclusive<T>(decide: () => Decision<T>): Promise<T> {
    const run = this.queue.then(() => this.attempt(decide));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async attempt<T>(decide: () => Decision<T>): Promise<T> {
    const deadline = Date.now() + this.writeTimeoutMs;
    const left = (): number => Math.max(1, deadline - Date.now());
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new Error('the schema registry is shutting down');
      let txn: Transaction | undefined;
      try {
        const producer = await within(this.transactional(), left(), 'connecting the transactional producer');
        // The first transaction of a producer registers it with the coordinator: that is the
        // moment every other instance's producer is fenced.
        txn = await within(producer.transaction(), left(), 'taking the transactional id');
        await this.sync(left());
        const { records, result } = decide();
        if (records.length === 0) {
          const t = txn;
          txn = undefined;
          await within(t.abort(), left(), 'ending an empty transaction');
          return result;
        }
        const sent = txn.send({
          topic: this.topic,
          acks: -1,
          messages: records.map((r) => ({ key: JSON.stringify(r.key), value: r.value === null ? null : JSON.stringify(r.value) })),
        });
        const [meta] = await within(sent, left(), `writing to ${this.topic}`);
        const t = txn;
        txn = undefined;
        await within(t.commit(), left(), 'committing');
        const last = BigInt(meta?.baseOffset ?? '-1') + BigInt(records.length - 1);
        await this.waitFor(last, left());
        return result;
      } catch (e) {
        if (txn) await within(txn.abort(), 2000, 'aborting').catch(() => undefined);
        if (e instanceof RegistryError) throw e;
        if (Date.now() >= deadline) {
          await this.dropTransactional();
          if (e instanceof LogTimeout) throw storeTimeout(e.message);
          throw e;
        }
        // Usually fenced by another instance that is writing right now: take the id back after
        // a short random pause, so two busy instances do not keep fencing each other.
        this.logger?.debug({ err: e, attempt, topic: this.topic }, 'schema log write lost its turn; retrying');
        await this.dropTransactional();
        await sleep(Math.min(1000, 20 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.queue.catch(() => undefined);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.dropTransactional();
    await this.markers.disconnect().catch(() => undefined);
  }
}
