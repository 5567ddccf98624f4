import type { ServiceBus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import { lineageHandlers } from './handler.js';
import type { LineageSettings } from './openlineage.js';
import type { LineageTransport } from './transport.js';

export const SERVICE_NAME = 'lineage';
export const SERVICE_VERSION = '0.1.0';

export interface LineageServiceOptions {
  bus: ServiceBus;
  logger: Logger;
  transport: LineageTransport;
  settings?: LineageSettings;
  groupId?: string;
}

/**
 * One consumer group over the attempt's facts. Keyed by connector (one partition key), so an
 * attempt's handshake is handled before its outcome and START always precedes COMPLETE/FAIL.
 */
export async function startLineageService(options: LineageServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  const consumer = bus.consumer({
    groupId: options.groupId ?? serviceGroupId(bus.topics.prefix, SERVICE_NAME),
    handlers: lineageHandlers({ transport: options.transport, settings: options.settings ?? { namespace: 'connector-preflight' }, logger }),
  });
  await consumer.start();
  logger.info(`${SERVICE_NAME} service started`);
  return { stop: () => consumer.stop() };
}
