import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '@preflight/core';

export interface BusConfig {
  brokers: string[];
  schemaRegistryUrl: string;
  /** Prepended to every topic name; tests use a random one so each owns its topics. */
  topicPrefix: string;
  clientId: string;
}

export function busConfigFromEnv(clientId: string, env: NodeJS.ProcessEnv = process.env): BusConfig {
  return {
    brokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean),
    schemaRegistryUrl: env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081',
    topicPrefix: env['TOPIC_PREFIX'] ?? '',
    clientId,
  };
}

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own log lines go through pino, one JSON format for the whole process. */
// We pick the partitioner explicitly (kafkajs' default is Java-compatible murmur2), so the v2
// migration notice is noise in every service's log.
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

export function createKafka(config: Pick<BusConfig, 'brokers' | 'clientId'>, logger: Logger, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...rest } = log;
        // Retries are bounded on purpose: a publish that cannot succeed must fail (retriable) to
        // its caller instead of blocking a partition forever; the notice says nothing new.
        const lvl = message.startsWith('Limiting retries for the idempotent producer') ? 'debug' : (LEVEL[level] ?? 'info');
        logger[lvl]({ kafkajs: namespace, ...rest }, message);
      },
    ...extra,
  });
}
