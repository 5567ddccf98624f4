import type { Kafka } from 'kafkajs';
import { createLogger, flushTelemetry, initTelemetry, type Logger } from '@preflight/core';
import { EVENT_TYPES, topicsFor, type EventType, type Topics } from '@preflight/events';
import { EventCodec } from './codec.js';
import { busConfigFromEnv, createKafka, type BusConfig } from './config.js';
import { EventConsumer, type EventConsumerOptions } from './consumer.js';
import { shutdownDeadlineMs } from './group.js';
import { EventProducer } from './producer.js';
import { ensureTopics, platformTopics, topicDurability, withDurability } from './topics.js';

export interface Bus {
  kafka: Kafka;
  codec: EventCodec;
  topics: Topics;
  producer: EventProducer;
  consumer(options: Omit<EventConsumerOptions, 'kafka' | 'codec' | 'topics' | 'logger'> & { logger?: Logger }): EventConsumer;
  /** Creates every declared topic that is missing (idempotent). */
  ensureTopics(partitions?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Wires one process's Kafka client, codec, producer and consumers from a BusConfig. */
export function createBus(config: BusConfig, logger: Logger, options: { produces?: readonly EventType[] } = {}): Bus {
  const kafka = createKafka(config, logger);
  const codec = new EventCodec(config.schemaRegistryUrl);
  const topics = topicsFor(config.topicPrefix);
  const producer = new EventProducer({ kafka, codec, topics, logger, types: options.produces ?? EVENT_TYPES });
  const consumers: EventConsumer[] = [];
  return {
    kafka,
    codec,
    topics,
    producer,
    consumer(opts) {
      const c = new EventConsumer({ ...opts, kafka, codec, topics, logger: opts.logger ?? logger });
      consumers.push(c);
      return c;
    },
    async ensureTopics(partitions) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { brokers } = await admin.describeCluster();
        await ensureTopics(admin, withDurability(platformTopics(topics, partitions), topicDurability(brokers.length)));
      } finally {
        await admin.disconnect();
      }
    },
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await producer.stop();
    },
  };
}

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits; in-flight work finishes first, within a
 * deadline: with the broker gone, leaving the group and flushing can otherwise retry for minutes.
 */
export function onShutdown(stop: () => Promise<void>, logger: Logger, deadlineMs = shutdownDeadlineMs()): void {
  let done = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (done) return;
    done = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish in time; exiting anyway');
      process.exit(1);
    }, deadlineMs).unref();
    stop()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

/**
 * A service process's whole life: telemetry, logger, bus from the environment, topics, the
 * service itself, and a graceful stop on SIGTERM/SIGINT. Each service's main.ts is one call.
 */
export async function runServiceMain(
  service: { name: string; version: string },
  start: (deps: { bus: Bus; logger: Logger }) => Promise<{ stop(): Promise<void> }>,
): Promise<void> {
  initTelemetry({ serviceName: service.name, serviceVersion: service.version });
  const logger = createLogger({ service: service.name, version: service.version });
  const bus = createBus(busConfigFromEnv(service.name), logger);
  await bus.ensureTopics();
  const running = await start({ bus, logger });
  onShutdown(async () => {
    await running.stop();
    await bus.stop();
    await flushTelemetry().catch((e: unknown) => logger.warn({ err: e }, 'could not flush the last spans'));
  }, logger);
}
