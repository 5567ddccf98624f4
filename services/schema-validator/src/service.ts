import type { ServiceBus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import { getConnector, scopesFromEnv, type Scopes } from '@preflight/connectors';
import { schemaValidatorConfig, type SchemaValidatorConfig } from './config.js';
import { SERVICE_NAME } from './decide.js';
import { schemaValidatorHandlers } from './handler.js';
import { noIncidentSink, WebhookIncidentSink, type IncidentSink } from './sink.js';

export interface SchemaValidatorServiceOptions {
  bus: ServiceBus;
  logger: Logger;
  groupId?: string;
  /** Defaults to the policy from the environment plus this bus's own endpoints. */
  scopes?: Scopes;
  /** Defaults to a webhook at INCIDENT_WEBHOOK_URL when set. */
  incidentSink?: IncidentSink;
  /** The service's settings, read once at start (main passes them). */
  config?: SchemaValidatorConfig;
}

export async function startSchemaValidatorService(options: SchemaValidatorServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  const url = (options.config ?? schemaValidatorConfig()).incidentWebhookUrl;
  const incidentSink = options.incidentSink ?? (url ? new WebhookIncidentSink(url, logger) : noIncidentSink);
  await bus.producer.start();
  const consumer = bus.consumer({
    groupId: options.groupId ?? serviceGroupId(bus.topics.prefix, SERVICE_NAME),
    partitionsConsumedConcurrently: 6,
    keyConcurrency: 8,
    handlers: schemaValidatorHandlers({
      connectors: getConnector,
      scopes: options.scopes ?? scopesFromEnv({ brokers: bus.config.brokers, registryUrl: bus.config.schemaRegistryUrl }),
      logger,
      incidentSink,
      publish: (...events) => bus.producer.publish(...events),
    }),
  });
  await consumer.start();
  logger.info(`${SERVICE_NAME} service started`);
  return { stop: () => consumer.stop() };
}
