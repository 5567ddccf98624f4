import { readTopics, type Bus } from '@preflight/bus';
import { DEFAULT_MAX_FAILED_ROW_SAMPLES } from '@preflight/contracts';
import { PreflightError } from '@preflight/core';
import type { Logger } from '@preflight/core';
import { getConnector, scopesFromEnv, type Scopes } from '@preflight/connectors';
import { OpenIncidents, SERVICE_NAME } from './decide.js';
import { schemaValidatorHandlers } from './handler.js';
import { noIncidentSink, WebhookIncidentSink, type IncidentSink } from './sink.js';

export interface SchemaValidatorServiceOptions {
  bus: Bus;
  logger: Logger;
  groupId?: string;
  /** Defaults to the policy from the environment plus this bus's own endpoints. */
  scopes?: Scopes;
  /** Defaults to a webhook at INCIDENT_WEBHOOK_URL when set. */
  incidentSink?: IncidentSink;
  /** Defaults to PREFLIGHT_FAILED_ROW_SAMPLES_MAX, else 20. */
  maxFailedRowSamples?: number;
}

export async function startSchemaValidatorService(options: SchemaValidatorServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  const url = process.env['INCIDENT_WEBHOOK_URL'];
  const incidentSink = options.incidentSink ?? (url ? new WebhookIncidentSink(url, logger) : noIncidentSink);
  const maxRows = process.env['PREFLIGHT_FAILED_ROW_SAMPLES_MAX'];
  const maxFailedRowSamples = options.maxFailedRowSamples ?? (maxRows === undefined ? DEFAULT_MAX_FAILED_ROW_SAMPLES : Number(maxRows));
  if (!Number.isInteger(maxFailedRowSamples) || maxFailedRowSamples < 0) throw new PreflightError('CONFIG', `PREFLIGHT_FAILED_ROW_SAMPLES_MAX must be a whole number of rows (0 turns samples off), not "${maxRows}"`, { retriable: false });
  await bus.producer.start();
  // Which incidents are open decides whether a ticket is new or a repeat and what a passing check
  // resolves: rebuilt from the whole incident log (a few events per problem, not per preflight).
  const incidents = new OpenIncidents();
  const incidentTypes = ['connector.incident.opened', 'connector.incident.resolved'] as const;
  const { records } = await readTopics(bus.kafka, incidentTypes.map((t) => bus.topics.of(t)), async (topic, _partition, _offset, value) => {
    const type = bus.topics.typeOf(topic) as (typeof incidentTypes)[number];
    try {
      incidents.apply((await bus.codec.decode(value, type)) as Parameters<OpenIncidents['apply']>[0]);
    } catch {
      // the live consumer dead-letters it with the reason
    }
  });
  logger.info({ records }, `${SERVICE_NAME} read the incident log`);
  const consumer = bus.consumer({
    groupId: options.groupId ?? `${bus.topics.prefix}preflight.${SERVICE_NAME}`,
    partitionsConsumedConcurrently: 6,
    keyConcurrency: 8,
    handlers: schemaValidatorHandlers({
      connectors: getConnector,
      scopes: options.scopes ?? scopesFromEnv({ brokers: bus.config.brokers, registryUrl: bus.config.schemaRegistryUrl }),
      logger,
      incidentSink,
      incidents,
      maxFailedRowSamples,
      publish: (...events) => bus.producer.publish(...events),
    }),
  });
  await consumer.start();
  logger.info(`${SERVICE_NAME} service started`);
  return { stop: () => consumer.stop() };
}
