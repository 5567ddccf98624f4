import { publishPersistently, startConsumerService, type ServiceOptions } from '@preflight/bus';
import { connectorServiceDeps, type Scopes } from '@preflight/connectors';
import { schemaValidatorConfig, type SchemaValidatorConfig } from './config.js';
import { OpenIncidents, SERVICE_NAME } from './decide.js';
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
  const config = options.config ?? schemaValidatorConfig();
  const url = config.incidentWebhookUrl;
  const incidentSink = options.incidentSink ?? (url ? new WebhookIncidentSink(url, logger) : noIncidentSink);
  // Which incidents are open decides whether a ticket is new or a repeat and what a passing check
  // resolves: rebuilt from the whole incident log (a few events per problem, not per preflight).
  const incidents = new OpenIncidents();
  const incidentTypes = ['connector.incident.opened', 'connector.incident.resolved'] as const;
  const { records } = await bus.readTopics(
    incidentTypes.map((t) => bus.topics.of(t)),
    async (topic, _partition, _offset, value) => {
      const type = bus.topics.typeOf(topic) as (typeof incidentTypes)[number];
      try {
        incidents.apply((await bus.codec.decode(value, type)) as Parameters<OpenIncidents['apply']>[0]);
      } catch {
        // the live consumer dead-letters it with the reason
      }
    },
  );
  logger.info({ records }, `${SERVICE_NAME} read the incident log`);
  return startConsumerService(bus, logger, SERVICE_NAME, {
    groupId: options.groupId,
    // Its answer to each input carries an id derived from the input: what makes a redelivery
    // after a crash a no-op instead of a second session on the source.
    outputs: ['connector.schema.checked'],
    handlers: schemaValidatorHandlers({ ...connectorServiceDeps(bus, logger, publishPersistently(bus.producer, logger), options.scopes), incidentSink, incidents, maxFailedRowSamples: config.maxFailedRowSamples }),
  });
}
