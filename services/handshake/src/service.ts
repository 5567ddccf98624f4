import type { ServiceBus, DedupeStore } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId, type ConnectorDeregistered } from '@preflight/events';
import { getConnector, scopesFromEnv, type Scopes } from '@preflight/connectors';
import { handshakeHandlers, rememberRetired } from './handler.js';
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
  // Retirement is final and rare: the whole topic, read once, says which connectors to refuse,
  // also for partitions whose deregistration this group committed before a restart.
  const retired = new Map<string, ConnectorDeregistered>();
  const topic = bus.topics.of('connector.deregistered');
  await bus.readTopics([topic], async (_t, _p, _o, value) => {
    try {
      rememberRetired(retired, (await bus.codec.decode(value, 'connector.deregistered')) as ConnectorDeregistered);
    } catch {
      // the live consumer dead-letters it with the reason
    }
  });
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
      retired,
    }),
  });
  await consumer.start();
  logger.info({ groupId: options.groupId }, `${SERVICE_NAME} service started`);
  return { stop: () => consumer.stop() };
}
