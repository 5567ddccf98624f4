import type { Bus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { defaultSecretProvider, getConnector, type SecretProvider } from '@preflight/connectors';
import { SERVICE_NAME } from './decide.js';
import { schemaValidatorHandlers } from './handler.js';
import { noIncidentSink, WebhookIncidentSink, type IncidentSink } from './sink.js';

export interface SchemaValidatorServiceOptions {
  bus: Bus;
  logger: Logger;
  groupId?: string;
  secrets?: SecretProvider;
  /** Defaults to a webhook at INCIDENT_WEBHOOK_URL when set. */
  incidentSink?: IncidentSink;
}

export async function startSchemaValidatorService(options: SchemaValidatorServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  const url = process.env['INCIDENT_WEBHOOK_URL'];
  const incidentSink = options.incidentSink ?? (url ? new WebhookIncidentSink(url, logger) : noIncidentSink);
  await bus.producer.start();
  const consumer = bus.consumer({
    groupId: options.groupId ?? `${bus.topics.prefix}preflight.${SERVICE_NAME}`,
    partitionsConsumedConcurrently: 6,
    keyConcurrency: 8,
    handlers: schemaValidatorHandlers({
      connectors: getConnector,
      secrets: options.secrets ?? defaultSecretProvider,
      logger,
      incidentSink,
      publish: (...events) => bus.producer.publish(...events),
    }),
  });
  await consumer.start();
  logger.info(`${SERVICE_NAME} service started`);
  return { stop: () => consumer.stop() };
}
