import { publishPersistently, startConsumerService, type ServiceOptions } from '@preflight/bus';
import { connectorServiceDeps, type Scopes } from '@preflight/connectors';
import { SERVICE_NAME, type AuditPolicy } from './judge.js';
import { auditorHandlers } from './handler.js';

export interface AuditorServiceOptions extends ServiceOptions {
  /** Defaults to the policy from the environment plus this bus's own endpoints. */
  scopes?: Scopes;
  policy?: AuditPolicy;
}

export async function startCredentialAuditorService(options: AuditorServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, logger } = options;
  return startConsumerService(bus, logger, SERVICE_NAME, {
    groupId: options.groupId,
    // Its answer to each input carries an id derived from the input: what makes a redelivery
    // after a crash a no-op instead of a second session on the source.
    outputs: ['connector.credentials.audited'],
    handlers: auditorHandlers({ ...connectorServiceDeps(bus, logger, publishPersistently(bus.producer, logger), options.scopes), ...(options.policy ? { policy: options.policy } : {}) }),
  });
}
