import type { Bus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import type { Scopes } from '@preflight/connectors';
import { startHandshakeService } from '@preflight/handshake';
import { startSchemaValidatorService } from '@preflight/schema-validator';
import { startCredentialAuditorService } from '@preflight/credential-auditor';
import { startReadinessService } from '@preflight/readiness';

/**
 * The four step services on one bus, as every bench runs them in its own process. Readiness's
 * preflight timeout is far past any bench run, so a slow run is measured, never timed out.
 */
export async function startStepServices(bus: Bus, logger: Logger, scopes: Scopes): Promise<Array<{ stop(): Promise<void> }>> {
  return [
    await startHandshakeService({ bus, logger, scopes }),
    await startSchemaValidatorService({ bus, logger, scopes }),
    await startCredentialAuditorService({ bus, logger, scopes }),
    await startReadinessService({ bus, logger, settings: { preflightTimeoutMs: 600_000 } }),
  ];
}
