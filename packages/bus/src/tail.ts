import type { IHeaders, Kafka } from 'kafkajs';
import { keepAlive } from './consumer.js';
import type { GroupTimings } from './group.js';
import { retryRetriable } from './retry.js';

export interface TailRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface TailBatch {
  topic: string;
  partition: number;
  records: TailRecord[];
  /** Marks a record done: its offset may be committed. */
  resolveOffset(offset: string): void;
}

export interface TailOptions {
  groupId: string;
  topics: string[];
  /** Where each assigned partition starts, whatever the group committed before (the reader keeps its own offsets). */
  startAt: (topic: string, partition: number) => string;
  /** Commit resolved offsets, so the group's lag shows how far behind the reader is; off for a reader that counts from the start at every start. */
  commit?: boolean;
  maxWaitTimeInMs?: number;
  /** Called on each (re)assignment, before its partitions are read from their start. */
  onAssigned?: () => void;
  onBatch: (batch: TailBatch) => Promise<void>;
}

export interface Tail {
  stop(): Promise<void>;
}

/**
 * Reads raw records of some topics from offsets the reader chooses, in batches, for a reader that
 * keeps its own position (the projector resumes where its snapshot stopped). Slow batches keep the
 * member alive; the caller decodes what it reads with the bus's codec.
 */
export async function startTail(kafka: Kafka, timings: GroupTimings, options: TailOptions): Promise<Tail> {
  const consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100, allowAutoTopicCreation: false, ...timings });
  await consumer.connect();
  await retryRetriable(() => consumer.subscribe({ topics: options.topics, fromBeginning: true }));
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    options.onAssigned?.();
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      for (const partition of partitions) consumer.seek({ topic, partition, offset: options.startAt(topic, partition) });
    }
  });
  const commit = options.commit ?? true;
  await consumer.run({
    autoCommit: commit,
    eachBatchAutoResolve: false,
    eachBatch: (payload) =>
      keepAlive(payload, async () => {
        const { batch } = payload;
        await options.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          records: batch.messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value, headers: m.headers ?? {} })),
          resolveOffset: (offset) => payload.resolveOffset(offset),
        });
        await payload.heartbeat();
        if (commit) await payload.commitOffsetsIfNecessary();
      }),
  });
  return { stop: () => consumer.disconnect() };
}
