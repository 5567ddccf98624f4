import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { currentTraceparent, PreflightError, type Logger } from '@preflight/core';
import { EVENT_TYPES, type ConnectorEvent, type EventType, type Topics } from '@preflight/events';
import type { EventCodec } from './codec.js';
import { cloudEventHeaders } from './headers.js';

export interface EventProducerOptions {
  kafka: Kafka;
  codec: EventCodec;
  topics: Topics;
  logger: Logger;
  /** Event types this producer may publish; their schemas are registered at start. */
  types?: readonly EventType[];
}

const GATHER_LIMIT_BYTES = 512 * 1024;

interface Pending {
  topicMessages: Map<string, Message[]>;
  count: number;
  bytes: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Idempotent producer (acks=all, one in-flight request per connection so retries cannot reorder),
 * keyed by connectorId so one connector's events stay in order on one partition.
 *
 * One request in flight means concurrent publishers (a consumer handling several partitions)
 * would each wait a full round trip in turn. Instead, what is published while a request is in
 * flight is gathered and sent as the next request, like Kafka's own producer lingering: order is
 * kept (one FIFO queue), and each publish still resolves only when the broker acknowledged it.
 */
export class EventProducer {
  readonly producer: Producer;
  private started = false;
  private inFlight: Promise<void> | undefined;
  private readonly queue: Pending[] = [];

  constructor(private readonly options: EventProducerOptions) {
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.options.codec.registerAll(this.options.topics, this.options.types ?? EVENT_TYPES);
    await this.producer.connect();
    this.started = true;
  }

  /** Publishes events in one request per topic; resolves when the broker has acknowledged all. */
  async publish(...events: ConnectorEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (!this.started) throw new PreflightError('BUS', 'producer not started', { retriable: false });
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
    return this.enqueue(byTopic, events.length, bytes);
  }

  /**
   * Keyed records that are not events (a compacted state topic's snapshot, a dead letter), already
   * encoded, through the same ordered queue and idempotent producer as the events.
   */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    if (!this.started) throw new PreflightError('BUS', 'producer not started', { retriable: false });
    const bytes = messages.reduce((n, m) => n + (Buffer.isBuffer(m.value) ? m.value.length : 0), 0);
    return this.enqueue(new Map([[topic, messages]]), messages.length, bytes);
  }

  private enqueue(byTopic: Map<string, Message[]>, count: number, bytes: number): Promise<void> {
    let batch = this.queue.at(-1);
    // Gathered requests stay well under the broker's 1 MiB record-batch limit.
    if (!batch || batch.bytes + bytes > GATHER_LIMIT_BYTES) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      batch = { topicMessages: new Map(), count: 0, bytes: 0, done, resolve, reject };
      this.queue.push(batch);
    }
    for (const [topic, messages] of byTopic) {
      const list = batch.topicMessages.get(topic);
      if (list) list.push(...messages);
      else batch.topicMessages.set(topic, messages);
    }
    batch.count += count;
    batch.bytes += bytes;
    if (!this.inFlight) this.flush();
    return batch.done;
  }

  /** Sends the oldest gathered batch; when it is acknowledged, the next. */
  private flush(): void {
    const batch = this.queue.shift();
    if (!batch) return;
    this.inFlight = this.producer
      .sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...batch.topicMessages].map(([topic, messages]) => ({ topic, messages })),
      })
      .then(
        () => batch.resolve(),
        (e: unknown) => batch.reject(new PreflightError('BUS', `publishing ${batch.count} event(s) failed: ${(e as Error).message}`, { cause: e, retriable: true })),
      )
      .finally(() => {
        this.inFlight = undefined;
        this.flush();
      });
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    while (this.inFlight) await this.inFlight;
    await this.producer.disconnect();
  }
}
