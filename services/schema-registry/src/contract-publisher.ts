import type { ServiceBus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { publishContractFacts } from './contract-facts.js';

export interface ContractFactsPublisherOptions {
  bus: ServiceBus;
  logger: Logger;
  /** The registry to publish to. */
  registryUrl: string;
  groupId?: string;
}

/**
 * Opt-in (`SCHEMA_REGISTRY_PUBLISH_CONTRACTS=true` for the registry's own process): on every
 * `connector.registered` with a contract, registers the contract's datasets as subjects with its
 * classifications as metadata tags. A contract that does not parse or a dataset the registry
 * refuses is logged and skipped: the preflight itself reports bad contracts, this only mirrors
 * good ones.
 */
export async function startContractFactsPublisher(options: ContractFactsPublisherOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  const consumer = bus.consumer({
    groupId: options.groupId ?? `${bus.topics.prefix}preflight.schema-registry.contract-facts`,
    handlers: {
      'connector.registered': async (e) => {
        if (!e.spec.contractYaml) return;
        let outcomes;
        try {
          outcomes = await publishContractFacts(options.registryUrl, e.connectorId, e.spec.contractYaml);
        } catch (err) {
          logger.warn({ err, connectorId: e.connectorId }, 'contract facts not published: the contract does not parse');
          return;
        }
        for (const o of outcomes) {
          if ('error' in o) logger.warn({ connectorId: e.connectorId, subject: o.subject, error: o.error }, 'contract dataset not published');
          else logger.info({ connectorId: e.connectorId, subject: o.subject, id: o.id }, 'contract dataset published');
        }
      },
    },
  });
  await consumer.start();
  return { stop: () => consumer.stop() };
}
