import type { ServiceBus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import { getConnector, scopesFromEnv, type Scopes } from '@preflight/connectors';
import { SERVICE_NAME, type AuditPolicy } from './judge.js';
import { auditorHandlers } from './handler.js';

export interface AuditorServiceOptions {
  bus: ServiceBus;
  logger: Logger;
  groupId?: string;
  /** Defaults to the policy from the environment plus this bus's own endpoints. */
  scopes?: Scopes;
  policy?: AuditPolicy;
}

export async function startCredentialAuditorService(options: AuditorServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  await bus.producer.start();
  const consumer = bus.consumer({
    groupId: options.groupId ?? serviceGroupId(bus.topics.prefix, SERVICE_NAME),
    partitionsConsumedConcurrently: 6,
    keyConcurrency: 8,
    handlers: auditorHandlers({
      connectors: getConnector,
      scopes: options.scopes ?? scopesFromEnv({ brokers: bus.config.brokers, registryUrl: bus.config.schemaRegistryUrl }),
      logger,
      ...(options.policy ? { policy: options.policy } : {}),
      publish: (...events) => bus.producer.publish(...events),
    }),
  });
  await consumer.start();
  logger.info(`${SERVICE_NAME} service started`);
  return { stop: () => consumer.stop() };
}
