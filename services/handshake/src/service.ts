import type { ServiceBus, DedupeStore } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import { getConnector, scopesFromEnv, type Scopes } from '@preflight/connectors';
import { handshakeHandlers } from './handler.js';
import { SERVICE_NAME } from './decide.js';

export interface HandshakeServiceOptions {
  bus: ServiceBus;
  logger: Logger;
  groupId?: string;
  /** Defaults to the policy from the environment plus this bus's own endpoints. */
  scopes?: Scopes;
  dedupe?: DedupeStore;
}

/** The Kafka adapter: one consumer group over registrations and handshake requests. */
export async function startHandshakeService(options: HandshakeServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  await bus.producer.start();
  const consumer = bus.consumer({
    groupId: options.groupId ?? serviceGroupId(bus.topics.prefix, SERVICE_NAME),
    partitionsConsumedConcurrently: 6,
    keyConcurrency: 8,
    ...(options.dedupe ? { dedupe: options.dedupe } : {}),
    handlers: handshakeHandlers({
      connectors: getConnector,
      scopes: options.scopes ?? scopesFromEnv({ brokers: bus.config.brokers, registryUrl: bus.config.schemaRegistryUrl }),
      logger,
      publish: (...events) => bus.producer.publish(...events),
    }),
  });
  await consumer.start();
  logger.info({ groupId: options.groupId }, `${SERVICE_NAME} service started`);
  return { stop: () => consumer.stop() };
}
