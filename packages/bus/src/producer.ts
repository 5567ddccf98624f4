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

/**
 * Idempotent producer (acks=all, one in-flight request per connection so retries cannot reorder),
 * keyed by connectorId so one connector's events stay in order on one partition.
 */
export class EventProducer {
  readonly producer: Producer;
  private started = false;

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
    for (const original of events) {
      // The producing span is the right parent for whoever consumes this event.
      const event = traceparent ? { ...original, traceparent } : original;
      const topic = this.options.topics.of(event.eventType);
      const schemaId = this.options.codec.writerIdFor(topic);
      if (schemaId === undefined) throw new PreflightError('BUS', `event type ${event.eventType} was not declared for this producer`, { retriable: false });
      const list = byTopic.get(topic) ?? [];
      list.push({ key: event.connectorId, value: this.options.codec.encode(topic, event), headers: cloudEventHeaders(event, schemaId) });
      byTopic.set(topic, list);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (e) {
      throw new PreflightError('BUS', `publishing ${events.length} event(s) failed: ${(e as Error).message}`, { cause: e, retriable: true });
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.producer.disconnect();
  }
}
