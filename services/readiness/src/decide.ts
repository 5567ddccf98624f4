import { causedBy, CHECK_NAMES, checkFailed, derivedEventId, newEvent, UPDATE_AUDIT_KEY, type CheckName, type ConnectorEvent, type ConnectorHandshake, type EventContext } from '@preflight/events';
import type { Attempt } from './attempt.js';
import { matchRule, type ApprovalPolicy } from './policy.js';
import { receiptOf, receiptYaml } from './receipt.js';

export const SERVICE_NAME = 'readiness';
export const SERVICE_VERSION = '0.1.0';
export const PRODUCER = `${SERVICE_NAME}@${SERVICE_VERSION}`;

export interface ReadinessSettings {
  /** A check that has not reported within this time fails the attempt as TIMEOUT. */
  preflightTimeoutMs: number;
  /** How long a human approval may take once every check has passed. */
  approvalTimeoutMs: number;
  policy: ApprovalPolicy;
  /**
   * What readiness knows of a contract without calling anything (PII, id and version) when the
   * handshake carries no contract facts: a handshake written before they were carried (v1).
   */
  contractFacts: (contractYaml: string | null) => ContractSummary;
}

export interface ContractSummary {
  id: string | null;
  version: string | null;
  pii: boolean;
}

/** The contract facts the handshake carries; the settings' parse only for a handshake without them. */
export function contractSummary(h: ConnectorHandshake | undefined, settings: Pick<ReadinessSettings, 'contractFacts'>): ContractSummary {
  const f = h?.contractFacts;
  if (f) return { id: f.id, version: f.version, pii: f.piiFields.length > 0 };
  return settings.contractFacts(h?.spec.contractYaml ?? null);
}

export interface Decision {
  attempt: Attempt;
  events: ConnectorEvent[];
}

/** Pure: given what is known at `now`, emit the attempt's one outcome, ask for approval, or wait. */
export function decide(attempt: Attempt, now: Date, settings: ReadinessSettings): Decision {
  if (attempt.outcome) return { attempt, events: [] };
  const h = attempt.handshake;
  const facts = contractSummary(h, settings);
  const elapsed = now.getTime() - attempt.startedAtMs;

  // A cancel wins over whatever is still outstanding (checks or a person's approval); the outcome
  // it produces is the attempt's one outcome, so checks that report later change nothing.
  if (attempt.cancel) return finish(attempt, 'FAILED', 'CANCELLED', `${attempt.cancel.actor} (cancelled)`, now, facts, missingChecks(attempt));

  if (h?.status === 'FAILED') return finish(attempt, 'FAILED', `HANDSHAKE_${h.error?.code ?? 'FAILED'}`, 'policy:handshake-required', now, facts, []);

  const missing = missingChecks(attempt);
  if (missing.length > 0) {
    if (elapsed < settings.preflightTimeoutMs) return { attempt, events: [] };
    const known = failureReasons(attempt);
    return finish(attempt, 'FAILED', ['TIMEOUT', ...known].join(','), 'policy:preflight-timeout', now, facts, missing);
  }

  const reasons = failureReasons(attempt);
  if (reasons.length > 0) return finish(attempt, 'FAILED', reasons.join(','), 'policy:all-checks-must-pass', now, facts, []);

  const rule = matchRule(settings.policy, { environment: h!.spec.environment, pii: facts.pii, sourceType: h!.spec.sourceType, breakingChange: attempt.update?.changelog?.breaking ?? false });
  if (!rule) return finish(attempt, 'READY', null, `policy:${settings.policy.fallback}`, now, facts, []);

  if (attempt.approval) {
    return attempt.approval.decision === 'APPROVED'
      ? finish(attempt, 'READY', null, `${attempt.approval.actor} (policy:${rule.name})`, now, facts, [])
      : finish(attempt, 'FAILED', 'APPROVAL_REJECTED', `${attempt.approval.actor} (policy:${rule.name})`, now, facts, []);
  }
  if (attempt.approvalRequestedAtMs === undefined) {
    const requested = newEvent(
      'connector.approval.requested',
      { policy: rule.name, requiredRole: rule.requireRole, reason: rule.reason },
      { ...ctxFor(attempt, 'connector.approval.requested'), occurredAt: now },
    );
    return { attempt: { ...attempt, approvalRequestedAtMs: now.getTime() }, events: [requested] };
  }
  if (now.getTime() - attempt.approvalRequestedAtMs >= settings.approvalTimeoutMs) {
    return finish(attempt, 'FAILED', 'APPROVAL_TIMEOUT', `policy:${rule.name}`, now, facts, ['approval']);
  }
  return { attempt, events: [] };
}

function missingChecks(a: Attempt): string[] {
  const reported: Record<CheckName, unknown> = { handshake: a.handshake, schema_check: a.schema, credential_audit: a.credentials };
  // An attempt an update started is not decided without that update (its changelog and the policy).
  const update = a.handshake?.audit[UPDATE_AUDIT_KEY] && !a.update ? ['update'] : [];
  return [...CHECK_NAMES.filter((name) => !reported[name]), ...update];
}

function failureReasons(a: Attempt): string[] {
  const out: string[] = [];
  if (a.schema && checkFailed(a.schema.status)) {
    if (a.schema.error) out.push(`SCHEMA_CHECK_${a.schema.error.code}`);
    if (a.schema.diff.some((d) => d.severity === 'ERROR')) out.push('SCHEMA_MISMATCH');
    if (a.schema.checkpoint && !a.schema.checkpoint.success) out.push('QUALITY');
  }
  if (a.credentials && checkFailed(a.credentials.status)) out.push(a.credentials.error ? `CREDENTIALS_${a.credentials.error.code}` : 'CREDENTIALS');
  return out;
}

function ctxFor(a: Attempt, type: 'connector.validated' | 'connector.approval.requested'): EventContext {
  const cause = a.cancel ?? a.credentials ?? a.schema ?? a.handshake;
  const base: EventContext = cause
    ? causedBy(cause, PRODUCER)
    : { producer: PRODUCER, tenantId: a.tenantId, connectorId: a.connectorId, correlationId: a.correlationId, actor: `service:${SERVICE_NAME}` };
  // One outcome per attempt, whatever the order or number of deliveries: the id derives from the attempt.
  return { ...base, eventId: derivedEventId(a.correlationId, type), idempotencyKey: `${type}:${a.correlationId}` };
}

function finish(
  attempt: Attempt,
  status: 'READY' | 'FAILED',
  reason: string | null,
  validatedBy: string,
  now: Date,
  contract: { id: string | null; version: string | null },
  missing: string[],
): Decision {
  const input = { attempt, status, reason, validatedBy, finishedAt: now, contract, missing };
  const receipt = receiptOf(input);
  const validated = newEvent(
    'connector.validated',
    {
      status,
      reason,
      validatedBy,
      receipt,
      receiptYaml: receiptYaml(input, receipt),
      durationMs: Math.max(0, now.getTime() - attempt.startedAtMs),
      audit: attempt.handshake?.audit ?? {},
    },
    { ...ctxFor(attempt, 'connector.validated'), occurredAt: now },
  );
  return { attempt: { ...attempt, outcome: status }, events: [validated] };
}
