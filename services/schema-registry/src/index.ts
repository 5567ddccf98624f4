import type { KafkaConfig } from 'kafkajs';
import type { Logger } from '@preflight/core';
import { buildHttp } from './http.js';
import { KafkaSchemaLog } from './log.js';
import { Registry } from './registry.js';
import { RegistryState } from './store.js';

export { checkAvroCompatibility, LEVELS, type CompatibilityLevel } from './compat.js';
export { canonicalAvro } from './avro.js';
export { CODES as REGISTRY_ERROR_CODES } from './errors.js';
export { parseProtobuf, messageIndexes, messageAt, encodeMessageIndexes, decodeMessageIndexes, printProto, type ParsedProto, type ProtoFile } from './protobuf.js';
export type { Metadata, Rule, RuleSet } from './contract.js';
export { contractSubjects, publishContractFacts, type ContractSubject, type PublishOutcome } from './contract-facts.js';
export { startContractFactsPublisher, type ContractFactsPublisherOptions } from './contract-publisher.js';

export interface RegistryOptions {
  /** Comma-separated bootstrap brokers. */
  brokers: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port; default 8081. */
  port?: number;
  /** Default `_schemas`. */
  topic?: string;
  logger?: Logger;
  /** How long a write may wait for Kafka before answering 50001/50002; default 30 s. */
  writeTimeoutMs?: number;
  /** TLS/SASL to the cluster (`kafkaClientSecurity(loadBusConfig(...).config.kafkaSecurity)`). */
  kafkaClient?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

export interface RegistryHandle {
  /** http://HOST:PORT */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a Confluent-compatible schema registry whose only storage is a compacted Kafka topic:
 * it creates the topic if missing, rebuilds its state by reading it from the first record, and
 * answers HTTP once it has caught up. Any number of instances may share one topic.
 */
export async function startSchemaRegistry(options: RegistryOptions): Promise<RegistryHandle> {
  const topic = options.topic ?? '_schemas';
  const host = options.host ?? '127.0.0.1';
  const state = new RegistryState();
  const log = new KafkaSchemaLog(
    { brokers: options.brokers, topic, ...(options.logger ? { logger: options.logger } : {}), ...(options.writeTimeoutMs ? { writeTimeoutMs: options.writeTimeoutMs } : {}), ...(options.kafkaClient ? { kafkaClient: options.kafkaClient } : {}) },
    (r) => state.apply(r),
  );
  try {
    await log.start();
  } catch (e) {
    await log.stop();
    throw e;
  }
  const app = buildHttp(new Registry(state, log), options.logger);
  try {
    await app.listen({ host, port: options.port ?? 8081 });
  } catch (e) {
    await log.stop();
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.port ?? 8081);
  // Listening on every interface is still reached through loopback from this machine.
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  options.logger?.info({ url, topic }, 'schema registry listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await log.stop();
      })()),
  };
}
