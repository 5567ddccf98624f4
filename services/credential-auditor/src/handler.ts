import { toPreflightError, type Logger } from '@preflight/core';
import type { ConnectorEvent, ConnectorHandshake, ConnectorSpec } from '@preflight/events';
import { newEvent, causedBy, failingFindings, unreachableSourceAlert } from '@preflight/events';
import type { Handlers } from '@preflight/bus';
import { configValue, isScopeRefusal, type ConnectorModule, type Scopes } from '@preflight/connectors';
import { applyFactsServer, carriedContractFacts, namespaceOf, type ContractFacts } from '@preflight/contracts';
import { judgeCredential, PRODUCER, type AuditFacts, type AuditPolicy, DEFAULT_POLICY } from './judge.js';

export interface AuditorDeps {
  connectors: (sourceType: string) => ConnectorModule;
  /** Every secret, address and path is resolved inside the event's tenant. */
  scopes: Scopes;
  logger: Logger;
  policy?: AuditPolicy;
  publish: (...events: ConnectorEvent[]) => Promise<void>;
}

/** The credential's ref, found where the connector's manifest says secrets live. */
function configSecretRef(module: ConnectorModule, config: Record<string, unknown>): { field: string; ref: string } | null {
  for (const path of module.manifest.contract.secretFields) {
    const v = configValue(config, path);
    if (typeof v === 'string') return { field: `config.${path}`, ref: v };
  }
  return null;
}

function configPrincipal(config: Record<string, unknown>): string | null {
  if (typeof config['user'] === 'string') return config['user'];
  const auth = config['auth'];
  if (auth && typeof auth === 'object' && typeof (auth as Record<string, unknown>)['username'] === 'string') return (auth as Record<string, string>)['username'] ?? null;
  return null;
}

/**
 * Gathers the facts through the facade and the secrets provider; never holds the secret longer
 * than the call. The contract's datasets and server come from the facts the handshake carries.
 */
export async function gatherFacts(tenantId: string, spec: ConnectorSpec, contract: ContractFacts | null, deps: Pick<AuditorDeps, 'connectors' | 'scopes'>, logger: Logger): Promise<AuditFacts> {
  const module = deps.connectors(spec.sourceType);
  const raw = JSON.parse(spec.configJson) as Record<string, unknown>;
  // The contract's server fills in what the config leaves out, as the schema check reads it.
  const withServer = contract ? applyFactsServer(contract, raw, spec.sourceType).config : raw;
  const config = module.parseConfig(withServer);
  const scope = deps.scopes.forTenant(tenantId);
  const found = configSecretRef(module, raw);
  const secretRef = found?.ref ?? null;
  let secret: AuditFacts['secret'] = null;
  if (found) {
    try {
      const r = await scope.secret(found.field, found.ref);
      secret = { resolved: true, scheme: r.scheme, ageDays: r.ageDays ?? null };
    } catch (e) {
      secret = { resolved: false, reason: toPreflightError(e).message, ...(isScopeRefusal(e) ? { outOfScope: true } : {}) };
    }
  }
  const datasets = contract ? contract.datasets.map((d) => d.name) : [];
  const access = secret && !secret.resolved ? null : await module.auditAccess(config, { scope, logger }, datasets);
  const namespace = namespaceOf(spec.sourceType, withServer);
  return { sourceType: spec.sourceType, expectedPrincipal: configPrincipal(raw), secretRef, secret, access, contractDatasets: datasets, namespace };
}

export function auditorHandlers(deps: AuditorDeps): Handlers {
  return {
    'connector.handshake': async (input: ConnectorHandshake) => {
      if (input.status !== 'COMPLETED') return;
      const log = deps.logger.child({ connectorId: input.connectorId, correlationId: input.correlationId, tenantId: input.tenantId });
      const started = performance.now();
      const ctx = causedBy(input, PRODUCER, { outputType: 'connector.credentials.audited' });
      let event: ConnectorEvent;
      let alert: ConnectorEvent | null = null;
      try {
        // Only a handshake written before the facts were carried makes this parse the contract.
        const contract = carriedContractFacts(input.contractFacts, input.spec, log);
        const facts = await gatherFacts(input.tenantId, input.spec, contract, deps, log);
        const verdict = judgeCredential(facts, deps.policy ?? DEFAULT_POLICY);
        event = newEvent(
          'connector.credentials.audited',
          {
            status: verdict.status,
            findings: verdict.findings,
            principal: facts.access?.principal ?? facts.expectedPrincipal,
            secretScheme: facts.secret?.resolved ? facts.secret.scheme : null,
            rotationAgeDays: facts.secret?.resolved ? facts.secret.ageDays : null,
            tls: facts.access?.tls ?? false,
            durationMs: performance.now() - started,
            error: null,
          },
          ctx,
        );
        for (const f of failingFindings(verdict.findings)) {
          log.error({ finding: f.code, severity: f.severity, object: f.object }, `credential audit failed for ${input.spec.name}: ${f.code}: ${f.message}`);
        }
        if (verdict.status === 'PASS') log.info({ findings: verdict.findings.length }, 'credential audit passed');
      } catch (e) {
        const err = toPreflightError(e, 'SOURCE');
        log.error({ code: err.code, reason: err.message }, `credential audit could not run for ${input.spec.name}: ${err.code}`);
        event = newEvent(
          'connector.credentials.audited',
          { status: 'ERROR', findings: [], principal: null, secretScheme: null, rotationAgeDays: null, tls: false, durationMs: performance.now() - started, error: { code: err.code, message: err.message, retriable: err.retriable } },
          ctx,
        );
        alert = unreachableSourceAlert(event, PRODUCER, input.spec, { code: err.code, message: err.message, retriable: err.retriable }, 'credential audit');
      }
      await deps.publish(event, ...(alert ? [alert] : []));
    },
  };
}
