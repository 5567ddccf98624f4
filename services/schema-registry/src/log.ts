import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import type { RecordKey } from './store.js';

/**
 * `_schemas` as a totally ordered log: every write is appended, and an instance answers a write
 * only after it has read the log up to its own record, so every instance folds the same sequence
 * and agrees on who won a race. No instance keeps state the log does not have.
 */
export class SchemaLog {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private consumer: Consumer | undefined;
  /** Offset of the next record this instance has not yet applied. */
  private next = 0n;
  private waiters: Array<{ offset: bigint; resolve: () => void }> = [];

  constructor(
    brokers: string,
    private readonly topic: string,
    private readonly onRecord: (key: RecordKey, value: Record<string, unknown> | null) => void,
  ) {
    this.kafka = new Kafka({ brokers: brokers.split(','), clientId: 'schema-registry', logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      if (!topics.includes(this.topic)) {
        for (let attempt = 1; ; attempt++) {
          try {
            await admin.createTopics({
              waitForLeaders: true,
              topics: [{ topic: this.topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
            });
            break;
          } catch (e) {
            // Right after creation the broker's metadata can lag ("does not host this
            // topic-partition"); another instance may have created the topic meanwhile.
            const err = e as Error & { retriable?: boolean };
            if (/already exists/i.test(err.message)) break;
            if (!err.retriable || attempt >= 10) throw e;
            await new Promise((r) => setTimeout(r, 100 * attempt));
            if ((await admin.listTopics()).includes(this.topic)) break;
          }
        }
      }
    } finally {
      await admin.disconnect();
    }
    await this.producer.connect();
    // A fresh group every start: the registry always rebuilds from the first record.
    this.consumer = this.kafka.consumer({ groupId: `schema-registry-${randomUUID()}`, maxWaitTimeInMs: 50 });
    await this.consumer.connect();
    // A topic created a moment ago may not be hosted by the broker yet: retry while it says so.
    await retrying(() => this.consumer!.subscribe({ topic: this.topic, fromBeginning: true }));
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        try {
          const key = JSON.parse(message.key?.toString() ?? 'null') as RecordKey | null;
          const value = message.value ? (JSON.parse(message.value.toString()) as Record<string, unknown>) : null;
          if (key && typeof key === 'object' && 'keytype' in key) this.onRecord(key, value);
        } catch {
          // Foreign or corrupt records are skipped, as Confluent does.
        }
        this.next = BigInt(message.offset) + 1n;
        this.release();
      },
    });
    await this.catchUp();
  }

  private release(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.offset < this.next) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private waitPast(offset: bigint, timeoutMs = 30_000): Promise<void> {
    if (offset < this.next) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out reading ${this.topic} up to offset ${offset}`)), timeoutMs);
      this.waiters.push({
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Reads until everything written before this call has been applied. */
  async catchUp(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Leadership can still be settling right after the topic was created.
      const [p] = await retrying(() => admin.fetchTopicOffsets(this.topic));
      const high = BigInt(p?.high ?? '0');
      if (high > 0n) await this.waitPast(high - 1n);
    } finally {
      await admin.disconnect();
    }
  }

  /** Appends a record and resolves once this instance has applied it (read-your-writes). */
  async append(key: RecordKey, value: Record<string, unknown> | null): Promise<void> {
    const [meta] = await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: JSON.stringify(key), value: value === null ? null : JSON.stringify(value) }] });
    const offset = BigInt(meta?.baseOffset ?? meta?.offset ?? '0');
    await this.waitPast(offset);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer.disconnect();
  }
}

async function retrying<T>(fn: () => Promise<T>, attempts = 12): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** i)));
    }
  }
}
