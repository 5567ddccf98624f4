import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { retryRetriable } from './retry.js';

export interface ReadTopicsOptions {
  /**
   * Start each partition at the first record written at or after this instant (epoch ms), found
   * with the broker's time index, instead of at the start of the log. A fraction is dropped (the
   * protocol carries whole milliseconds; kafkajs throws on a fraction).
   */
  sinceMs?: number;
  /** Only these partitions of each topic (all when absent). */
  partitions?: ReadonlySet<number>;
}

export type RawRecordHandler = (
  topic: string,
  partition: number,
  offset: string,
  value: Buffer | null,
  key: Buffer | null,
  timestampMs: number,
  headers: IHeaders,
) => Promise<void> | void;

/**
 * Reads topics up to the end they had when the call started, with a throwaway consumer group
 * that commits nothing: what a service does to rebuild in-memory state from the log. Partitions
 * are read in parallel, records of one partition in order.
 */
export async function readTopics(kafka: Kafka, topics: string[], onMessage: RawRecordHandler, options: ReadTopicsOptions = {}): Promise<{ records: number }> {
  const admin = kafka.admin();
  await admin.connect();
  /** `topic:partition` → [first offset to read, end offset (exclusive)] */
  const ranges = new Map<string, [bigint, bigint]>();
  const highs = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      const ends = await retryRetriable(() => admin.fetchTopicOffsets(topic));
      const starts =
        options.sinceMs === undefined ? undefined : await retryRetriable(() => admin.fetchTopicOffsetsByTimestamp(topic, Math.floor(options.sinceMs!)));
      for (const p of ends) {
        const high = BigInt(p.high);
        // Partitions not asked for start at their end, so the reader fetches nothing of them.
        highs.set(`${topic}:${p.partition}`, high);
        if (options.partitions && !options.partitions.has(p.partition)) continue;
        let low = BigInt(p.low);
        const fromTime = starts?.find((s) => s.partition === p.partition);
        // The broker answers -1 (or the end) when nothing was written since `sinceMs`.
        if (fromTime) low = BigInt(fromTime.offset) < 0n ? high : maxOf(low, BigInt(fromTime.offset));
        if (high > low) ranges.set(`${topic}:${p.partition}`, [low, high]);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (ranges.size === 0) return { records: 0 };
  let records = 0;
  const pending = new Set(ranges.keys());
  const consumer = kafka.consumer({ groupId: `preflight-reader-${randomUUID()}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    const wanted = [...new Set([...ranges.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))];
    await retryRetriable(() => consumer.subscribe({ topics: wanted, fromBeginning: true }));
    // Each partition starts where its range does; one with nothing to read starts at its end
    // instead of fetching its whole log only to skip it.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const key = `${topic}:${partition}`;
          const start = ranges.get(key)?.[0] ?? highs.get(key);
          if (start !== undefined) consumer.seek({ topic, partition, offset: start.toString() });
        }
      }
    });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const key = `${batch.topic}:${batch.partition}`;
            const range = ranges.get(key);
            if (!range || !pending.has(key)) return;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset < range[0] || offset >= range[1]) continue;
              records++;
              await onMessage(batch.topic, batch.partition, m.offset, m.value, m.key, Number(m.timestamp), m.headers ?? {});
              if (offset + 1n >= range[1]) pending.delete(key);
            }
            if (pending.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { records };
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Whether a consumer group has committed an offset on any partition of these topics. */
export async function groupHasCommitted(kafka: Kafka, groupId: string, topics: string[]): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await retryRetriable(() => admin.fetchOffsets({ groupId, topics }));
    return offsets.some((t) => t.partitions.some((p) => p.offset !== '-1'));
  } finally {
    await admin.disconnect();
  }
}
