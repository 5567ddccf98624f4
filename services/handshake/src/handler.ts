import { scrubText, toPreflightError, type Logger } from '@preflight/core';
import type { ConnectorDeregistered, ConnectorEvent, ConnectorSpec } from '@preflight/events';
import type { Handlers } from '@preflight/bus';
import { auditFields, type ConnectorModule, type Scopes } from '@preflight/connectors';
import { carriedContractFacts, contractFactsOf, type ContractFacts } from '@preflight/contracts';
import { decideHandshake, refuseRetired, shouldHandshake, type HandshakeOutcome, type HandshakeTrigger } from './decide.js';

export interface HandshakeDeps {
  connectors: (sourceType: string) => ConnectorModule;
  /** Every secret, address and path is resolved inside the event's tenant. */
  scopes: Scopes;
  logger: Logger;
  publish: (...events: ConnectorEvent[]) => Promise<void>;
  /** Deregistrations seen, by connector id: loaded from the topic at start, then kept current by the handler. */
  retired?: Map<string, ConnectorDeregistered>;
}

/** Runs the connector's handshake through the facade; every failure becomes a typed outcome. */
export async function performHandshake(tenantId: string, spec: ConnectorSpec, deps: Pick<HandshakeDeps, 'connectors' | 'scopes'>, logger: Logger): Promise<HandshakeOutcome> {
  const started = performance.now();
  let connectorVersion = 'unknown';
  let audit: Record<string, string> = {};
  try {
    const module = deps.connectors(spec.sourceType);
    connectorVersion = module.manifest.version;
    const config = module.parseConfig(parseJson(spec.configJson));
    audit = auditFields(module, config);
    const r = await module.handshake(config, { scope: deps.scopes.forTenant(tenantId), logger });
    return {
      ok: true,
      connectorVersion,
      attempts: r.attempts,
      durationMs: r.durationMs,
      serverVersion: r.serverVersion,
      tls: r.tls,
      latencyMs: r.latencyMs,
      principal: r.principal,
      audit,
    };
  } catch (e) {
    const err = toPreflightError(e, 'SOURCE');
    const attempts = typeof err.details['attempts'] === 'number' ? err.details['attempts'] : 1;
    return {
      ok: false,
      connectorVersion,
      attempts,
      durationMs: performance.now() - started,
      error: { code: err.code, message: scrubText(err.message, []), retriable: err.retriable },
      audit,
    };
  }
}

/**
 * The contract facts the handshake carries downstream, parsed here at most once per trigger: a
 * registration from the API brings them; one an upstream producer wrote without them, a request
 * and an update (which never carry them) are parsed. A contract that does not parse gives none:
 * the schema check names its problems, and nothing here should fail the handshake over it.
 */
export function factsFor(input: HandshakeTrigger, logger: Logger): ContractFacts | null {
  try {
    return input.eventType === 'connector.registered' ? carriedContractFacts(input.contractFacts, input.spec, logger) : contractFactsOf(input.spec);
  } catch (e) {
    logger.debug({ reason: (e as Error).message }, 'the contract does not parse: the handshake carries no contract facts');
    return null;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw toPreflightError(new Error(`spec.configJson is not valid JSON: ${(e as Error).message}`), 'CONFIG');
  }
}

/** The first deregistration of a connector is the one on record, whatever the order they are read in. */
export function rememberRetired(retired: Map<string, ConnectorDeregistered>, e: ConnectorDeregistered): void {
  const prior = retired.get(e.connectorId);
  if (!prior || e.occurredAt < prior.occurredAt || (e.occurredAt === prior.occurredAt && e.eventId < prior.eventId)) retired.set(e.connectorId, e);
}

export function handshakeHandlers(deps: HandshakeDeps): Handlers {
  const run = async (input: HandshakeTrigger): Promise<void> => {
    if (!shouldHandshake(input)) return;
    const log = deps.logger.child({ connectorId: input.connectorId, correlationId: input.correlationId, tenantId: input.tenantId });
    const retired = deps.retired?.get(input.connectorId);
    const outcome = retired ? refuseRetired(retired) : await performHandshake(input.tenantId, input.spec, deps, log);
    const events = decideHandshake(input, outcome, factsFor(input, log));
    if (outcome.ok) log.info({ durationMs: outcome.durationMs, serverVersion: outcome.serverVersion, tls: outcome.tls.enabled }, 'handshake completed');
    else log.error({ code: outcome.error.code, reason: outcome.error.message, attempts: outcome.attempts }, `handshake failed: ${outcome.error.code}`);
    await deps.publish(...events);
  };
  const retire = (e: ConnectorDeregistered): Promise<void> => {
    if (deps.retired) rememberRetired(deps.retired, e);
    return Promise.resolve();
  };
  return { 'connector.registered': run, 'connector.handshake.requested': run, 'connector.updated': run, 'connector.deregistered': retire };
}
