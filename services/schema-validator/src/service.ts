import { startConsumerService, type ServiceOptions } from '@preflight/bus';
import { connectorServiceDeps, type Scopes } from '@preflight/connectors';
import { schemaValidatorConfig, type SchemaValidatorConfig } from './config.js';
import { SERVICE_NAME } from './decide.js';
import { schemaValidatorHandlers } from './handler.js';
import { noIncidentSink, WebhookIncidentSink, type IncidentSink } from './sink.js';

export interface SchemaValidatorServiceOptions extends ServiceOptions {
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
  return startConsumerService(bus, logger, SERVICE_NAME, {
    groupId: options.groupId,
    handlers: schemaValidatorHandlers({ ...connectorServiceDeps(bus, logger, bus.producer.publish.bind(bus.producer), options.scopes), incidentSink }),
  });
}
