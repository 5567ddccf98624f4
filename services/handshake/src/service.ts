import { publishPersistently, startConsumerService, type ServiceOptions, type DedupeStore } from '@preflight/bus';
import type { ConnectorDeregistered } from '@preflight/events';
import { connectorServiceDeps, type Scopes } from '@preflight/connectors';
import { handshakeHandlers, rememberRetired } from './handler.js';
import { SERVICE_NAME } from './decide.js';

export interface HandshakeServiceOptions extends ServiceOptions {
  /** Defaults to the policy from the environment plus this bus's own endpoints. */
  scopes?: Scopes;
  dedupe?: DedupeStore;
}

/** The Kafka adapter: one consumer group over registrations and handshake requests. */
export async function startHandshakeService(options: HandshakeServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  // Retirement is final and rare: the whole topic, read once, says which connectors to refuse,
  // also for partitions whose deregistration this group committed before a restart.
  const retired = new Map<string, ConnectorDeregistered>();
  await bus.readTopics([bus.topics.of('connector.deregistered')], async (_t, _p, _o, value) => {
    try {
      rememberRetired(retired, (await bus.codec.decode(value, 'connector.deregistered')) as ConnectorDeregistered);
    } catch {
      // the live consumer dead-letters it with the reason
    }
  });
  return startConsumerService(bus, logger, SERVICE_NAME, {
    groupId: options.groupId,
    // Its answer to each input carries an id derived from the input: what makes a redelivery
    // after a crash a no-op instead of a second session on the source.
    outputs: ['connector.handshake'],
    dedupe: options.dedupe,
    handlers: handshakeHandlers({ ...connectorServiceDeps(bus, logger, publishPersistently(bus.producer, logger), options.scopes), retired }),
  });
}
