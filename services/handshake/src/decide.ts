import { causedBy, newEvent, unreachableSourceAlert, UPDATE_AUDIT_KEY, type ConnectorDeregistered, type ConnectorEvent, type ContractFactsInfo, type ConnectorHandshakeRequested, type ConnectorRegistered, type ConnectorUpdated, type ErrorInfo } from '@preflight/events';

export const SERVICE_NAME = 'handshake';
export const SERVICE_VERSION = '0.1.0';
export const PRODUCER = `${SERVICE_NAME}@${SERVICE_VERSION}`;

/** An update with autoPreflight starts the preflight of the new spec, as a registration does. */
export type HandshakeTrigger = ConnectorRegistered | ConnectorHandshakeRequested | ConnectorUpdated;

interface OutcomeBase {
  connectorVersion: string;
  attempts: number;
  durationMs: number;
  audit: Record<string, string>;
}

export type HandshakeOutcome =
  | (OutcomeBase & {
      ok: true;
      serverVersion: string;
      tls: { enabled: boolean; protocol?: string | undefined; cipher?: string | undefined };
      latencyMs: number;
      principal: string;
    })
  | (OutcomeBase & { ok: false; error: ErrorInfo });

/** A registration (or update) without autoPreflight only records the connector; an admin starts it later. */
export function shouldHandshake(input: HandshakeTrigger): boolean {
  return input.eventType === 'connector.handshake.requested' || input.autoPreflight;
}

/**
 * Pure: the outcome for a trigger of a retired connector. Refused before any I/O, as a FAILED
 * handshake with code DEREGISTERED, so readiness ends the attempt FAILED (HANDSHAKE_DEREGISTERED)
 * and whoever asked sees why, instead of an attempt that never ends.
 */
export function refuseRetired(retired: Pick<ConnectorDeregistered, 'occurredAt' | 'actor' | 'reason'>): HandshakeOutcome {
  return {
    ok: false,
    connectorVersion: 'unknown',
    attempts: 0,
    durationMs: 0,
    audit: {},
    error: { code: 'DEREGISTERED', message: `the connector was deregistered at ${retired.occurredAt} by ${retired.actor}${retired.reason ? ` (${retired.reason})` : ''}; a retired connector is not preflighted`, retriable: false },
  };
}

/**
 * Pure: the events that report one handshake outcome. `contractFacts` travel on the handshake so
 * the checks after it read them instead of parsing the contract (null: no valid contract).
 */
export function decideHandshake(input: HandshakeTrigger, outcome: HandshakeOutcome, contractFacts: ContractFactsInfo | null = null): ConnectorEvent[] {
  const handshake = newEvent(
    'connector.handshake',
    {
      status: outcome.ok ? 'COMPLETED' : 'FAILED',
      spec: input.spec,
      trigger: input.eventType === 'connector.registered' ? 'REGISTERED' : 'REQUESTED',
      operationId: input.eventType === 'connector.handshake.requested' ? input.operationId : null,
      connectorVersion: outcome.connectorVersion,
      attempts: outcome.attempts,
      durationMs: outcome.durationMs,
      serverVersion: outcome.ok ? outcome.serverVersion : null,
      tls: outcome.ok ? { enabled: outcome.tls.enabled, protocol: outcome.tls.protocol ?? null, cipher: outcome.tls.cipher ?? null } : null,
      latencyMs: outcome.ok ? outcome.latencyMs : null,
      principal: outcome.ok ? outcome.principal : null,
      error: outcome.ok ? null : outcome.error,
      audit: input.eventType === 'connector.updated' ? { ...outcome.audit, [UPDATE_AUDIT_KEY]: input.eventId } : outcome.audit,
      contractFacts,
    },
    causedBy(input, PRODUCER, { outputType: 'connector.handshake' }),
  );
  if (outcome.ok) return [handshake];
  const alert = unreachableSourceAlert(handshake, PRODUCER, input.spec, outcome.error, 'handshake', { attempts: String(outcome.attempts), ...outcome.audit });
  return alert ? [handshake, alert] : [handshake];
}
