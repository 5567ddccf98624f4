import { assertLeaseHeld } from './lease.js';
import { CompressionTypes, Partitioners, type Admin, type Kafka, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import { currentTraceparent, PreflightError, type Logger } from '@preflight/core';
import { EVENT_TYPES, type ConnectorEvent, type EventType, type Topics } from '@preflight/events';
import type { EventCodec } from './codec.js';
import { sendUntilAcked } from './acked.js';
import { Coalescer } from './coalesce.js';
import { cloudEventHeaders } from './headers.js';

export interface EventProducerOptions {
  kafka: Kafka;
  codec: EventCodec;
  topics: Topics;
  logger: Logger;
  /** Event types this producer may publish; their schemas are registered at start. */
  types?: readonly EventType[];
  /** KAFKA_PRODUCER_LINGER_MS: 0 gathers what is published in the same event-loop turn. */
  lingerMs?: number;
}

/** kafkajs's retry schedule for sends: 0.1, 0.2, 0.4, 0.8, 1.6 s, then every 2 s; ~25 s in all. */
export const PRODUCER_RETRY = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 16 } as const;

// Gathered requests stay well under the broker's 1 MiB record-batch limit.
const GATHER_LIMIT_BYTES = 512 * 1024;

/**
 * Idempotent producer (acks=all, one in-flight request per connection so retries cannot reorder),
 * keyed by connectorId so one connector's events stay in order on one partition.
 *
 * One request in flight means concurrent publishers (API requests, a consumer handling several
 * partitions) would each wait a full round trip in turn. Instead, publishes are gathered into
 * requests by a {@link Coalescer}: what is published in the same event-loop turn (or within the
 * linger), and what is published while a request is in flight, goes out together as the next
 * request; order is kept, and each publish still resolves only when the broker acknowledged it.
 */
export class EventProducer {
  /** The kafkajs producer; replaced by a new one (a new producer id) when the broker has lost its sequence. */
  producer: Producer;
  private started = false;
  private readonly gather: Coalescer<Message>;
  /** Partition counts, for naming each record's partition before it is sent (see acked.ts). */
  private readonly admin: Admin;
  private readonly partitionsOf = new Map<string, PartitionMetadata[]>();
  /** The producer's own partitioner (kafkajs's default, Java-compatible murmur2): same key, same partition as before. */
  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(private readonly options: EventProducerOptions) {
    this.producer = this.newProducer();
    this.admin = options.kafka.admin();
    this.gather = new Coalescer<Message>({
      lingerMs: options.lingerMs ?? 0,
      maxBytes: GATHER_LIMIT_BYTES,
      send: async (request) => {
        try {
          // Every record names its partition, so an acknowledgement that leaves a partition out
          // is seen and its records are sent again (a kafkajs retry after a leader move can skip them).
          const topicMessages: Array<{ topic: string; messages: Message[] }> = [];
          for (const [topic, messages] of request.topicMessages) {
            const partitionMetadata = await this.partitionMetadata(topic);
            topicMessages.push({ topic, messages: messages.map((m) => (m.partition === undefined ? { ...m, partition: this.partitioner({ topic, partitionMetadata, message: m }) } : m)) });
          }
          await sendUntilAcked((batch) => this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: batch }), topicMessages, {
            onMissing: (missing, round) => options.logger.warn({ missing, round }, 'the broker acknowledged a batch without some of its partitions (a leader moved during a retry); sending their records again'),
          });
        } catch (e) {
          for (const topic of request.topicMessages.keys()) this.partitionsOf.delete(topic);
          if (lostSequence(e)) await this.renew(e);
          throw new PreflightError('BUS', `publishing ${request.count} event(s) failed: ${(e as Error).message}`, { cause: e, retriable: true });
        }
      },
      abandoned: (failed, request) => new PreflightError('BUS', `publishing ${request.count} event(s) was not attempted: the request before them failed (${(failed as Error).message})`, { cause: failed, retriable: true }),
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.options.codec.registerAll(this.options.topics, this.options.types ?? EVENT_TYPES);
    await this.producer.connect();
    await this.admin.connect();
    this.started = true;
  }

  /** Publishes events in one request per topic; resolves when the broker has acknowledged all. */
  async publish(...events: ConnectorEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (!this.started) throw new PreflightError('BUS', 'producer not started', { retriable: false });
    assertLeaseHeld();
    const traceparent = currentTraceparent();
    const byTopic = new Map<string, Message[]>();
    let bytes = 0;
    for (const original of events) {
      // The producing span is the right parent for whoever consumes this event.
      const event = traceparent ? { ...original, traceparent } : original;
      const topic = this.options.topics.of(event.eventType);
      const schemaId = this.options.codec.writerIdFor(topic);
      if (schemaId === undefined) throw new PreflightError('BUS', `event type ${event.eventType} was not declared for this producer`, { retriable: false });
      const list = byTopic.get(topic) ?? [];
      const value = this.options.codec.encode(topic, event);
      bytes += value.length;
      list.push({ key: event.connectorId, value, headers: cloudEventHeaders(event, schemaId) });
      byTopic.set(topic, list);
    }
    return this.gather.add(byTopic, events.length, bytes);
  }

  /**
   * Keyed records that are not events (a compacted state topic's snapshot, a dead letter), already
   * encoded, through the same ordered queue and idempotent producer as the events.
   */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    if (!this.started) throw new PreflightError('BUS', 'producer not started', { retriable: false });
    const bytes = messages.reduce((n, m) => n + (Buffer.isBuffer(m.value) ? m.value.length : 0), 0);
    return this.gather.add(new Map([[topic, messages]]), messages.length, bytes);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.gather.drain();
    await this.producer.disconnect();
    await this.admin.disconnect();
  }

  /**
   * Idempotent, one request in flight (a retry cannot reorder), topics only as provisioned. The
   * same ~25 s of retries as the client's default schedule, but no wait longer than 2 s between
   * two: with the doubling schedule a send to a partition whose leader died waited up to 12.8 s
   * after the cluster had elected a new one, and an evicted member's answer landed after the
   * partition's new owner had read the log for it and run the step again (chaos, issue 12).
   */
  private newProducer(): Producer {
    return this.options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: PRODUCER_RETRY });
  }

  /**
   * A broker that answers OUT_OF_ORDER_SEQUENCE_NUMBER (or no longer knows the producer id) has
   * lost this producer's sequence, typically after a leader moved mid-request; kafkajs keeps
   * sending with it and every later publish fails the same way (455 failures in one chaos run,
   * until inputs were dead-lettered). As the Java client does, start a new idempotent session.
   * Runs inside the coalescer's one request in flight, so nothing is sent on the old one meanwhile.
   */
  private async renew(cause: unknown): Promise<void> {
    const old = this.producer;
    this.options.logger.warn({ err: (cause as Error).message }, 'the broker lost this producer\'s sequence; starting a new idempotent producer session');
    this.producer = this.newProducer();
    try {
      await this.producer.connect();
    } finally {
      await old.disconnect().catch(() => undefined);
    }
  }

  /** A topic's partitions, as the cluster lists them (kept; forgotten when a send to the topic fails). */
  private async partitionMetadata(topic: string): Promise<PartitionMetadata[]> {
    const known = this.partitionsOf.get(topic);
    if (known) return known;
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics.find((t) => t.name === topic)?.partitions ?? [];
    if (partitions.length === 0) throw new PreflightError('BUS', `topic ${topic} has no partitions in the cluster's metadata`, { retriable: true });
    this.partitionsOf.set(topic, partitions);
    return partitions;
  }
}

/** Whether kafkajs failed because the broker no longer accepts this producer's sequence (its session is spent). */
export function lostSequence(e: unknown): boolean {
  for (let err = e as { type?: unknown; message?: unknown; originalError?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if (err.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER' || err.type === 'UNKNOWN_PRODUCER_ID' || err.type === 'INVALID_PRODUCER_EPOCH') return true;
    if (typeof err.message === 'string' && /out of order sequence number|unknown producer id/i.test(err.message)) return true;
    err = (err.originalError ?? err.cause) as typeof err;
  }
  return false;
}
