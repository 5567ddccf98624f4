import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import type { ServiceBus } from './bus.js';
import type { DedupeStore } from './dedupe.js';
import type { Handlers } from './consumer.js';
import type { EventType } from '@preflight/events';

/** What every service's start function takes: the bus, its logger, and its consumer group if not the default. */
export interface ServiceOptions {
  bus: ServiceBus;
  logger: Logger;
  /** Default `<prefix>preflight.<service>`. */
  groupId?: string;
}

/**
 * A pipeline service's Kafka side: its producer started, then its one consumer group
 * (`<prefix>preflight.<service>`) running its handlers, six partitions and eight connectors at a
 * time (one connector's events stay in order).
 */
export async function startConsumerService(
  bus: ServiceBus,
  logger: Logger,
  service: string,
  options: { handlers: Handlers; groupId?: string | undefined; dedupe?: DedupeStore | undefined; outputs?: readonly EventType[] },
): Promise<{ stop(): Promise<void> }> {
  await bus.producer.start();
  const groupId = options.groupId ?? serviceGroupId(bus.topics.prefix, service);
  const consumer = bus.consumer({ groupId, partitionsConsumedConcurrently: 6, keyConcurrency: 8, ...(options.dedupe ? { dedupe: options.dedupe } : {}), ...(options.outputs ? { outputs: options.outputs } : {}), handlers: options.handlers });
  await consumer.start();
  logger.info({ groupId }, `${service} service started`);
  return { stop: () => consumer.stop() };
}
