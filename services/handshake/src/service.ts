import { startConsumerService, type ServiceOptions, type DedupeStore } from '@preflight/bus';
import { connectorServiceDeps, type Scopes } from '@preflight/connectors';
import { handshakeHandlers } from './handler.js';
import { SERVICE_NAME } from './decide.js';

export interface HandshakeServiceOptions extends ServiceOptions {
  /** Defaults to the policy from the environment plus this bus's own endpoints. */
  scopes?: Scopes;
  dedupe?: DedupeStore;
}

/** The Kafka adapter: one consumer group over registrations and handshake requests. */
export async function startHandshakeService(options: HandshakeServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  return startConsumerService(bus, logger, SERVICE_NAME, {
    groupId: options.groupId,
    dedupe: options.dedupe,
    handlers: handshakeHandlers(connectorServiceDeps(bus, logger, bus.producer.publish.bind(bus.producer), options.scopes)),
  });
}
