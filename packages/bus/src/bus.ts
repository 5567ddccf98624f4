import type avro from 'avsc';
import type { Kafka } from 'kafkajs';
import { createLogger, flushTelemetry, initTelemetry, toPreflightError, type FieldIssue, type Logger } from '@preflight/core';
import { EVENT_TYPES, topicsFor, type EventType, type Topics } from '@preflight/events';
import { EventCodec } from './codec.js';
import { ConfigError, createKafka, explainKafkaFailure, loadBusConfig, type BusConfig, type LoadedBusConfig, type ProcessSettings } from './config.js';
import { EventConsumer, type EventConsumerOptions } from './consumer.js';
import { healthReport, serveHealth, trackConsumer, type ConsumerHealth, type HealthReport } from './health.js';
import { groupTimings, shutdownDeadlineMs } from './group.js';
import { EventProducer } from './producer.js';
import { topicAdmin, topicAdminClient, type TopicAdmin, type TopicAdminClient } from './admin.js';
import { CompactedTopic } from './compacted.js';
import { deadLetterMessage, type DeadLetterSource } from './dead-letter.js';
import { groupHasCommitted, readTopics, type RawRecordHandler, type ReadTopicsOptions } from './reader.js';
import { retryRetriable } from './retry.js';
import { startTail, type Tail, type TailOptions } from './tail.js';
import { ensureTopics, platformTopics, topicDurability, withDurability } from './topics.js';

/**
 * What a service gets to reach Kafka: typed events in and out, and the few narrow operations a
 * read model needs (a compacted topic, a tail from its own offsets, offsets, dead letters). No
 * raw kafkajs client: every record goes through the bus's producer and codec.
 */
export interface ServiceBus {
  /** What this bus was built from: its brokers and registry are platform endpoints no connector may reach. */
  config: BusConfig;
  codec: EventCodec;
  topics: Topics;
  producer: EventProducer;
  consumer(options: Omit<EventConsumerOptions, 'kafka' | 'codec' | 'topics' | 'logger'> & { logger?: Logger }): EventConsumer;
  /** A compacted topic of records of one Avro schema, written and read through the bus's producer and codec. */
  compacted<T>(topic: string, schema: avro.Schema): CompactedTopic<T>;
  /** Raw records of some topics from offsets the reader keeps itself (see `TailOptions`). */
  tail(options: TailOptions): Promise<Tail>;
  /** Reads topics up to their end at the call, with a throwaway group that commits nothing. */
  readTopics(topics: string[], onMessage: RawRecordHandler, options?: ReadTopicsOptions): Promise<{ records: number }>;
  /** Whether a consumer group has committed an offset on any partition of these topics. */
  groupHasCommitted(groupId: string, topics: string[]): Promise<boolean>;
  /** Runs read-only questions about topics and groups on one admin connection. */
  withAdmin<R>(use: (admin: TopicAdmin) => Promise<R>): Promise<R>;
  /** A read-only admin connection the caller opens, keeps and closes (for a view refreshed in the background). */
  adminClient(): TopicAdminClient;
  /** Sets a record aside on `<topic>.dlq` with why, under the group that gave up on it. */
  deadLetter(source: DeadLetterSource, reason: unknown, groupId: string): Promise<void>;
  /** Creates every declared topic that is missing (idempotent). */
  ensureTopics(partitions?: number): Promise<void>;
  /** Every consumer's group state, for /healthz and /readyz. */
  health(): HealthReport;
  stop(): Promise<void>;
}

/**
 * The bus as its creator holds it (a process's main, a test harness, a script): with the raw
 * client, for what only a harness does (fault injection, watching topics). Services are handed a
 * `ServiceBus` and never see it (a unit test keeps kafkajs out of their sources).
 */
export interface Bus extends ServiceBus {
  readonly kafka: Kafka;
}

/** Wires one process's Kafka client, codec, producer and consumers from a BusConfig. */
export function createBus(config: BusConfig, logger: Logger, options: { produces?: readonly EventType[]; process?: ProcessSettings } = {}): Bus {
  const kafka = createKafka(config, logger);
  const codec = new EventCodec(config.schemaRegistryUrl, undefined, config.registryClient);
  const topics = topicsFor(config.topicPrefix);
  const producer = new EventProducer({ kafka, codec, topics, logger, types: options.produces ?? EVENT_TYPES, ...(config.producerLingerMs !== undefined ? { lingerMs: config.producerLingerMs } : {}) });
  const timings = options.process?.groupTimings ?? groupTimings();
  const consumers: EventConsumer[] = [];
  const health: ConsumerHealth[] = [];
  return {
    config,
    kafka,
    codec,
    topics,
    producer,
    consumer(opts) {
      const c = new EventConsumer({ timings, ...opts, kafka, codec, topics, logger: opts.logger ?? logger });
      consumers.push(c);
      health.push(trackConsumer(c.consumer, opts.groupId));
      return c;
    },
    compacted: <T>(topic: string, schema: avro.Schema) => new CompactedTopic<T>({ kafka, codec, producer }, topic, schema),
    tail: (opts) => startTail(kafka, timings, opts),
    readTopics: (names, onMessage, opts) => readTopics(kafka, names, onMessage, opts),
    groupHasCommitted: (groupId, names) => groupHasCommitted(kafka, groupId, names),
    adminClient: () => topicAdminClient(kafka.admin()),
    async withAdmin(use) {
      const admin = kafka.admin();
      await retryRetriable(() => admin.connect());
      try {
        return await use(topicAdmin(admin));
      } finally {
        await admin.disconnect();
      }
    },
    async deadLetter(source, reason, groupId) {
      await producer.send(topics.dlq(source.topic), [deadLetterMessage(source, toPreflightError(reason, 'DECODE'), groupId, new Date())]);
    },
    async ensureTopics(partitions) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { brokers } = await admin.describeCluster();
        await ensureTopics(admin, withDurability(platformTopics(topics, partitions), topicDurability(brokers.length, options.process?.durability)));
      } finally {
        await admin.disconnect();
      }
    },
    health: () => healthReport(health),
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
 * The process's bus settings from its environment, or, when any is wrong, every problem on
 * stderr and in the log, then exit 2 (a configuration error: restarting will not help).
 */
export function busConfigOrExit(processName: string, logger: Logger): BusConfig {
  return loadedBusConfigOrExit(processName, logger).config;
}

/** {@link busConfigOrExit} with the process's own settings. */
export function loadedBusConfigOrExit(processName: string, logger: Logger): LoadedBusConfig {
  return configsOrExit(processName, logger, () => undefined).bus;
}

/**
 * The bus settings and the service's own config, both read once from the environment; when either
 * has problems, every problem of both on stderr and in the log, then exit 2.
 */
function configsOrExit<C>(processName: string, logger: Logger, loadOwn: () => C): { bus: LoadedBusConfig; own: C } {
  const issues: FieldIssue[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      issues.push(...(e.issues ?? []));
      return undefined;
    }
  };
  const bus = attempt(() => loadBusConfig(processName));
  const own = attempt(loadOwn);
  if (issues.length > 0 || !bus) {
    // A variable both the catalogue and the service check is listed once.
    const e = new ConfigError(issues.filter((i, n) => issues.findIndex((j) => j.field === i.field) === n));
    logger.fatal({ issues: e.issues }, e.message);
    process.stderr.write(`${processName}: ${e.message}\n`);
    process.exit(2);
  }
  for (const w of bus.warnings) logger.warn(w);
  return { bus, own: own as C };
}

/**
 * A service process's whole life: telemetry, logger, bus from the environment (validated as a
 * whole: every bad setting is listed at once and the process exits 2), a first connection that
 * names the setting to fix when Kafka refuses it (exit 1), topics, the service itself, the
 * health endpoint on HEALTH_PORT, and a graceful stop on SIGTERM/SIGINT. Each main.ts is one call.
 */
export async function runServiceMain<C = undefined>(
  service: { name: string; version: string },
  start: (deps: { bus: ServiceBus; logger: Logger; config: C }) => Promise<{ stop(): Promise<void> }>,
  /** The service's own settings (its config module), read and checked with the bus's. */
  loadConfig: () => C = () => undefined as C,
): Promise<void> {
  const logger = createLogger({ service: service.name, version: service.version });
  const {
    bus: { config, process: settings },
    own,
  } = configsOrExit(service.name, logger, loadConfig);
  initTelemetry({ serviceName: service.name, serviceVersion: service.version });
  const bus = createBus(config, logger, { process: settings });
  try {
    await bus.ensureTopics();
  } catch (e) {
    const why = explainKafkaFailure(e, config);
    logger.fatal({ err: e }, why.message);
    process.stderr.write(`${service.name}: ${why.message}\n`);
    process.exit(1);
  }
  const running = await start({ bus, logger, config: own });
  const healthAt = settings.health;
  const health = healthAt ? await serveHealth(() => bus.health(), healthAt) : undefined;
  if (health) logger.info({ url: health.url }, 'health endpoint listening');
  onShutdown(async () => {
    await health?.close();
    await running.stop();
    await bus.stop();
    await flushTelemetry().catch((e: unknown) => logger.warn({ err: e }, 'could not flush the last spans'));
  }, logger, settings.shutdownDeadlineMs);
}
