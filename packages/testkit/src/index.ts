import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { createLogger, type Logger } from '@preflight/core';

export { launchChromium, type ChromiumLauncher } from './browser.js';
export { createPostgresReader, type PostgresReaderConfig } from './postgres.js';

/** A prefix no other test uses, so each test owns its topics and consumer groups. */
export function randomPrefix(label = 't'): string {
  return `${label}${randomBytes(5).toString('hex')}.`;
}

/** Bus settings for the broker and registry the test run's global setup started (a BusConfig). */
export function testBusConfig(prefix = randomPrefix(), clientId = 'test'): { brokers: string[]; schemaRegistryUrl: string; topicPrefix: string; clientId: string } {
  const brokers = process.env['KAFKA_BROKERS'];
  const schemaRegistryUrl = process.env['SCHEMA_REGISTRY_URL'];
  if (!brokers || !schemaRegistryUrl) {
    throw new Error('KAFKA_BROKERS / SCHEMA_REGISTRY_URL are not set: run integration tests through vitest (--project int)');
  }
  return { brokers: brokers.split(','), schemaRegistryUrl, topicPrefix: prefix, clientId };
}

export function testLogger(name = 'test'): Logger {
  return createLogger({ service: name, level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
}

export async function eventually<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface RawRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** Reads raw records of some topics from the beginning with a throwaway group; for assertions. */
export async function collectRaw(kafka: Kafka, topics: string[]): Promise<{ records: RawRecord[]; stop(): Promise<void> }> {
  const consumer = kafka.consumer({ groupId: `collector-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100 });
  const records: RawRecord[] = [];
  await consumer.connect();
  for (let i = 1; ; i++) {
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      break;
    } catch (e) {
      // Fresh topics may not be hosted yet; the same retry the bus does.
      if (!(e as { retriable?: boolean }).retriable || i >= 12) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** i)));
    }
  }
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      records.push({ topic, partition, message });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}
