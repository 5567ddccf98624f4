import avro from 'avsc';
import type { Kafka, Message } from 'kafkajs';
import { toPreflightError, type PreflightError } from '@preflight/core';
import { subjectFor } from '@preflight/events';
import type { EventCodec } from './codec.js';
import type { DeadLetterSource } from './dead-letter.js';
import type { EventProducer } from './producer.js';
import { readTopics } from './reader.js';

/** One keyed record of a compacted topic; a null value is a tombstone (compaction drops the key). */
export interface CompactedRecord<T> {
  key: string;
  value: T | null;
  /** Written to this partition instead of the key's (a changelog co-partitioned with its inputs). */
  partition?: number;
}

/** Stays well under the broker's 1 MiB record-batch limit, whatever the number of records. */
const CHUNK_BYTES = 512 * 1024;

/**
 * A compacted topic of Avro records that are not events (a read model's snapshot), written with
 * the bus's producer and codec: the same idempotent producer, the same Confluent wire format, the
 * schema registered under `<topic>-value`.
 */
export class CompactedTopic<T> {
  private readonly type: avro.Type;
  private schemaId: number | undefined;

  constructor(
    private readonly deps: { kafka: Kafka; codec: EventCodec; producer: EventProducer },
    readonly topic: string,
    private readonly schema: avro.Schema,
  ) {
    this.type = avro.Type.forSchema(schema);
  }

  /** Registers the schema (idempotent) and starts the bus's producer if it is not yet. */
  async start(): Promise<void> {
    this.schemaId ??= await this.deps.codec.registerAvro(subjectFor(this.topic), this.schema as object);
    await this.deps.producer.start();
  }

  /**
   * Writes the records in order, in chunks sent one after the other: when one fails, the later
   * ones are not sent, so what the broker has is a prefix of what was asked.
   */
  async write(records: ReadonlyArray<CompactedRecord<T>>): Promise<void> {
    const id = this.schemaId;
    if (id === undefined) throw new Error(`compacted topic ${this.topic} written before start()`);
    let chunk: Message[] = [];
    let size = 0;
    for (const r of records) {
      const value = r.value === null ? null : this.deps.codec.encodeAvro(id, this.type, r.value);
      if (chunk.length > 0 && size + (value?.length ?? 0) > CHUNK_BYTES) {
        await this.deps.producer.send(this.topic, chunk);
        chunk = [];
        size = 0;
      }
      chunk.push(r.partition === undefined ? { key: r.key, value } : { key: r.key, value, partition: r.partition });
      size += value?.length ?? 0;
    }
    if (chunk.length > 0) await this.deps.producer.send(this.topic, chunk);
  }

  /**
   * Reads the whole topic as it is now, in log order per partition. A record that cannot be
   * decoded goes to `onUndecodable` (to be dead-lettered) and the read goes on; a registry that
   * cannot be reached fails the read.
   */
  async read(
    onRecord: (r: CompactedRecord<T>, source: DeadLetterSource) => void | Promise<void>,
    onUndecodable: (source: DeadLetterSource, reason: PreflightError) => Promise<void>,
    options: { partitions?: ReadonlySet<number> } = {},
  ): Promise<{ records: number }> {
    return readTopics(this.deps.kafka, [this.topic], async (topic, partition, offset, value, key) => {
      const k = key?.toString() ?? '';
      if (!value) return onRecord({ key: k, value: null }, { topic, partition, offset, key, value });
      let decoded: T;
      try {
        decoded = await this.deps.codec.decodeAvro<T>(value, this.type);
      } catch (e) {
        const reason = toPreflightError(e, 'DECODE');
        if (reason.retriable) throw reason;
        return onUndecodable({ topic, partition, offset, key, value }, reason);
      }
      await onRecord({ key: k, value: decoded }, { topic, partition, offset, key, value });
    }, options.partitions ? { partitions: options.partitions } : {});
  }
}
