import { credentialAuditSummary, handshakeSummary, schemaCheckSummary, type CheckSummary, type Receipt } from '@preflight/events';
import type { Attempt } from './attempt.js';
import { toYaml } from './yaml-out.js';

export interface ReceiptInput {
  attempt: Attempt;
  status: 'READY' | 'FAILED';
  reason: string | null;
  validatedBy: string;
  finishedAt: Date;
  contract: { id: string | null; version: string | null };
  missing: string[];
}

/** The receipt as structured data (Avro) — one summary line per check. */
export function receiptOf(input: ReceiptInput): Receipt {
  const { attempt: a } = input;
  const checks: CheckSummary[] = [];
  if (a.handshake) {
    const h = a.handshake;
    checks.push({
      name: 'handshake',
      status: h.status,
      durationMs: h.durationMs,
      eventId: h.eventId,
      summary: handshakeSummary(h),
    });
  }
  if (a.schema) {
    const s = a.schema;
    checks.push({ name: 'schema_check', status: s.status, durationMs: s.durationMs, eventId: s.eventId, summary: schemaCheckSummary(s) });
  }
  if (a.credentials) {
    const c = a.credentials;
    checks.push({ name: 'credential_audit', status: c.status, durationMs: c.durationMs, eventId: c.eventId, summary: credentialAuditSummary(c) });
  }
  if (a.approval) {
    checks.push({ name: 'approval', status: a.approval.decision, durationMs: null, eventId: a.approval.eventId, summary: `${a.approval.actor} (${a.approval.policy})` });
  }
  for (const name of input.missing) checks.push({ name, status: 'MISSING', durationMs: null, eventId: null, summary: 'no result before the preflight timeout' });
  return {
    attemptId: a.correlationId,
    connector: a.handshake?.spec.name ?? a.connectorId,
    sourceType: a.handshake?.spec.sourceType ?? 'unknown',
    contractVersion: input.contract.version,
    startedAt: new Date(a.startedAtMs).toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    checks,
    evidence: a.evidence.map((e) => e.ref),
  };
}

/** The receipt as YAML: what a person reads and what `preflight receipt` prints. */
export function receiptYaml(input: ReceiptInput, receipt: Receipt = receiptOf(input)): string {
  const a = input.attempt;
  const h = a.handshake;
  const s = a.schema;
  const c = a.credentials;
  const doc = {
    // 2: every expectation with its evidence (observed value, counts, error code and message), not only the failed ones.
    // 3: each expectation's severity (and the rule's as written) and, when the contract asked, its failed-row samples.
    receipt_version: 3,
    status: input.status,
    reason: input.reason,
    validated_by: input.validatedBy,
    attempt_id: a.correlationId,
    connector: {
      id: a.connectorId,
      name: receipt.connector,
      tenant: a.tenantId,
      source_type: receipt.sourceType,
      environment: h?.spec.environment ?? null,
    },
    contract: { id: input.contract.id, version: input.contract.version },
    contract_change: contractChangeOf(a),
    started_at: receipt.startedAt,
    finished_at: receipt.finishedAt,
    duration_ms: round(Math.max(0, input.finishedAt.getTime() - a.startedAtMs)),
    handshake: h
      ? {
          status: h.status,
          duration_ms: round(h.durationMs),
          attempts: h.attempts,
          server_version: h.serverVersion,
          tls: h.tls ? { enabled: h.tls.enabled, protocol: h.tls.protocol } : { enabled: false },
          latency_ms: h.latencyMs === null ? null : round(h.latencyMs),
          principal: h.principal,
          connector_version: h.connectorVersion,
          error: h.error ? { code: h.error.code, message: h.error.message } : null,
          event_id: h.eventId,
        }
      : { status: 'MISSING' },
    schema_check: s
      ? {
          status: s.status,
          duration_ms: round(s.durationMs),
          datasets_discovered: s.datasetsDiscovered,
          differences: s.diff.map((d) => ({ kind: d.kind, dataset: d.dataset, field: d.field, expected: d.expected, actual: d.actual, severity: d.severity })),
          checkpoint: s.checkpoint
            ? {
                success: s.checkpoint.success,
                engine: s.checkpoint.engine,
                evaluated_expectations: s.checkpoint.evaluatedExpectations,
                successful_expectations: s.checkpoint.successfulExpectations,
                success_percent: round(s.checkpoint.successPercent),
                failed: s.checkpoint.results.filter((r) => !r.success).map((r) => ({ expectation_type: r.expectationType, kwargs: JSON.parse(r.kwargsJson) as unknown, severity: r.severity, unexpected_count: r.unexpectedCount, unexpected_percent: r.unexpectedPercent })),
                expectations: s.checkpoint.results.map(evidenceOf),
              }
            : null,
          severity: s.severity,
          error: s.error ? { code: s.error.code, message: s.error.message } : null,
          event_id: s.eventId,
        }
      : { status: 'MISSING' },
    credential_audit: c
      ? {
          status: c.status,
          duration_ms: round(c.durationMs),
          principal: c.principal,
          secret_store: c.secretScheme,
          rotation_age_days: c.rotationAgeDays === null ? null : round(c.rotationAgeDays),
          tls: c.tls,
          findings: c.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message })),
          error: c.error ? { code: c.error.code, message: c.error.message } : null,
          event_id: c.eventId,
        }
      : { status: 'MISSING' },
    approval: a.approval ? { decision: a.approval.decision, by: a.approval.actor, policy: a.approval.policy, comment: a.approval.comment } : null,
    checks: receipt.checks.map((k) => ({ name: k.name, status: k.status, duration_ms: k.durationMs === null ? null : round(k.durationMs) })),
    evidence: receipt.evidence,
  };
  // Written directly, block style, no anchors (a receipt is read by people): the yaml library's
  // document model was the largest single CPU cost of a preflight (yaml-out.ts, issue 14).
  return toYaml(doc);
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** The update this attempt checks: who changed what and why, the contract changes each classified. */
function contractChangeOf(a: ReceiptInput['attempt']): Record<string, unknown> | null {
  const u = a.update;
  if (!u) return null;
  const log = u.changelog;
  return {
    changed: u.changed,
    by: u.actor,
    at: u.occurredAt,
    reason: u.reason,
    from_version: log?.from ?? null,
    to_version: log?.to ?? null,
    breaking: log?.breaking ?? false,
    changes: (log?.changes ?? []).map((c) => ({ path: c.path, kind: c.kind, breaking: c.breaking, detail: c.detail })),
    event_id: u.eventId,
  };
}

type ResultRecord = NonNullable<NonNullable<ReceiptInput['attempt']['schema']>['checkpoint']>['results'][number];

/**
 * One expectation as evidence: what was expected (kwargs), what was observed, how many rows were
 * unexpected, the error with its stable code (`PERMISSION: …` as the schema validator writes it),
 * and its severity: `warning` when the contract's rule is of a non-blocking ODCS severity, so its
 * failure did not fail the preflight. Failed-row samples only when the contract asked for them
 * (already bounded and redacted by the checkpoint); partial value lists stay in the event.
 */
function evidenceOf(r: ResultRecord): Record<string, unknown> {
  const code = r.exceptionMessage ? /^([A-Z][A-Z_]+): /.exec(r.exceptionMessage)?.[1] ?? null : null;
  return {
    expectation_type: r.expectationType,
    expected: JSON.parse(r.kwargsJson) as unknown,
    success: r.success,
    observed: r.observedValue,
    element_count: r.elementCount,
    unexpected_count: r.unexpectedCount,
    unexpected_percent: r.unexpectedPercent === null ? null : round(r.unexpectedPercent),
    error: r.exceptionMessage ? { code, message: code ? r.exceptionMessage.slice(code.length + 2) : r.exceptionMessage } : null,
    // A schema.checked v1 (before severities) reads as error, the only severity it knew.
    severity: r.severity,
    rule_severity: r.ruleSeverity,
    ...(r.unexpectedRows.length ? { failed_rows: r.unexpectedRows } : {}),
  };
}
