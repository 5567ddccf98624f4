import type { Logger } from '@preflight/core';
import { getConnector } from './registry.js';
import type { ConnectorModule } from './facade.js';
import { scopesFromEnv } from './scope/factory.js';
import type { Scopes } from './scope/tenant-scope.js';

/**
 * What every service that works through the connector facade hands its handlers: the connector
 * modules, the tenant scopes (given, or the environment's policy plus the process's own Kafka and
 * registry, which no connector may reach), its logger and its publisher.
 */
export function connectorServiceDeps<P>(
  own: { config: { brokers: string[]; schemaRegistryUrl: string } },
  logger: Logger,
  publish: P,
  scopes?: Scopes,
): { connectors: (sourceType: string) => ConnectorModule; scopes: Scopes; logger: Logger; publish: P } {
  return { connectors: getConnector, scopes: scopes ?? scopesFromEnv({ brokers: own.config.brokers, registryUrl: own.config.schemaRegistryUrl }), logger, publish };
}
