import { createHash } from 'node:crypto';
import type { CheckpointResult, DiffEntry as ContractDiffEntry } from '@preflight/contracts';
import { causedBy, newEvent, unreachableSourceAlert, type Checkpoint, type ConnectorEvent, type ConnectorHandshake, type DiffEntry, type ErrorInfo } from '@preflight/events';

export const SERVICE_NAME = 'schema-validator';
export const SERVICE_VERSION = '0.1.0';
export const PRODUCER = `${SERVICE_NAME}@${SERVICE_VERSION}`;

export type GeResult = CheckpointResult;
export type SchemaDiffEntry = ContractDiffEntry;

export type SchemaCheckOutcome =
  | {
      ok: true;
      contractId: string;
      contractVersion: string;
      datasetsDiscovered: number;
      diff: SchemaDiffEntry[];
      checkpoint: GeResult | null;
      /** From the contract: V3 when a failed expectation touches a PII or regulated field. */
      checkpointSeverity: 'V2' | 'V3' | null;
      durationMs: number;
    }
  | { ok: false; error: ErrorInfo; durationMs: number; contractId: string | null; contractVersion: string | null };

export interface IncidentTicket {
  incidentId: string;
  kind: 'SCHEMA_MISMATCH' | 'QUALITY' | 'PERMISSION';
  severity: 'V2' | 'V3';
  summary: string;
  connectorId: string;
  connector: string;
  tenantId: string;
  attemptId: string;
  contract: { id: string; version: string };
  diff: SchemaDiffEntry[];
  failedExpectations: Array<{ expectation_type: string; kwargs: Record<string, unknown>; unexpected_count: number | null; unexpected_percent: number | null }>;
  evidence: string[];
  openedAt: string;
}

const toDiffEntry = (d: SchemaDiffEntry): DiffEntry => ({
  kind: d.kind,
  dataset: d.dataset,
  field: d.field ?? null,
  expected: d.expected ?? null,
  actual: d.actual ?? null,
  severity: d.severity,
  message: d.message,
  pii: d.pii,
});

function str(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? 'null';
}

export function toCheckpoint(ge: GeResult): Checkpoint {
  return {
    success: ge.success,
    engine: ge.meta.engine,
    evaluatedExpectations: ge.statistics.evaluated_expectations,
    successfulExpectations: ge.statistics.successful_expectations,
    unsuccessfulExpectations: ge.statistics.unsuccessful_expectations,
    successPercent: ge.statistics.success_percent ?? 100,
    results: ge.results.map((r) => ({
      expectationType: r.expectation_config.expectation_type,
      kwargsJson: JSON.stringify(r.expectation_config.kwargs),
      success: r.success,
      elementCount: r.result.element_count ?? null,
      unexpectedCount: r.result.unexpected_count ?? null,
      unexpectedPercent: r.result.unexpected_percent ?? null,
      partialUnexpectedList: (r.result.partial_unexpected_list ?? []).map(str),
      observedValue: r.result.observed_value === undefined ? null : str(r.result.observed_value),
      // The stable code leads the message, so receipts can show it without another schema version.
      exceptionMessage: r.exception_info?.raised_exception ? `${r.exception_info.error_code ? `${r.exception_info.error_code}: ` : ''}${r.exception_info.exception_message ?? 'exception'}` : null,
    })),
  };
}

export function schemaMismatch(outcome: SchemaCheckOutcome): boolean {
  return outcome.ok && outcome.diff.some((d) => d.severity === 'ERROR');
}

export function qualityFailed(outcome: SchemaCheckOutcome): boolean {
  return outcome.ok && outcome.checkpoint !== null && !outcome.checkpoint.success;
}

/** V2 for any failure; V3 when a PII or regulated field is involved in the diff or the checkpoint. */
export function severityOf(outcome: SchemaCheckOutcome): 'V2' | 'V3' | null {
  if (!outcome.ok || (!schemaMismatch(outcome) && !qualityFailed(outcome))) return null;
  const piiDiff = outcome.diff.some((d) => d.severity === 'ERROR' && d.pii);
  return piiDiff || outcome.checkpointSeverity === 'V3' ? 'V3' : 'V2';
}

/**
 * What identifies a problem across attempts: the connector, the kind and the set of failing
 * checks — not counts or values, which change while the problem stays the same. A repeat of the
 * same failure carries the same incident id, so it updates that incident instead of opening one.
 */
export function incidentFingerprint(connectorId: string, kind: string, errors: SchemaDiffEntry[], failed: Array<{ expectation_config: { expectation_type: string; kwargs: Record<string, unknown>; meta: { dataset: string } } }>): string {
  const parts = [
    ...errors.map((d) => `diff:${d.kind}:${d.dataset}:${d.field ?? ''}`),
    ...failed.map((r) => `exp:${r.expectation_config.meta.dataset}:${r.expectation_config.expectation_type}:${JSON.stringify(r.expectation_config.kwargs)}`),
  ].sort();
  return createHash('sha256').update([connectorId, kind, ...parts].join('\n')).digest('hex');
}

/** Pure: the incident ticket a failed check opens, or null when nothing failed. */
export function incidentFor(input: ConnectorHandshake, outcome: SchemaCheckOutcome, now: Date = new Date()): IncidentTicket | null {
  const severity = severityOf(outcome);
  if (!outcome.ok || !severity) return null;
  const mismatch = schemaMismatch(outcome);
  const errors = outcome.diff.filter((d) => d.severity === 'ERROR');
  // Warnings (a non-blocking rule severity) are reported, but they open no incident.
  const failed = (outcome.checkpoint?.results ?? []).filter((r) => !r.success && r.expectation_config.meta.severity !== 'warning');
  // Missing grants are an access problem for whoever owns the credential, not a schema or data one.
  const permissionOnly = errors.length > 0 && errors.every((d) => d.kind === 'PERMISSION');
  const summary = permissionOnly
    ? `${input.spec.name}: the connector's principal cannot read ${errors.map((d) => d.field ? `${d.dataset}.${d.field}` : d.dataset).join(', ')} (${errors.map((d) => d.message).slice(0, 3).join('; ')})`
    : mismatch
    ? `${input.spec.name}: source schema does not match contract ${outcome.contractId} v${outcome.contractVersion} (${errors.length} difference${errors.length === 1 ? '' : 's'}: ${errors.slice(0, 3).map((d) => d.message).join('; ')})`
    : `${input.spec.name}: data quality checkpoint failed (${failed.length} of ${outcome.checkpoint?.statistics.evaluated_expectations ?? 0} expectations: ${failed.slice(0, 3).map((r) => r.expectation_config.expectation_type).join(', ')})`;
  const kind = permissionOnly ? 'PERMISSION' : mismatch ? 'SCHEMA_MISMATCH' : 'QUALITY';
  return {
    incidentId: `INC-${incidentFingerprint(input.connectorId, kind, errors, failed).slice(0, 10).toUpperCase()}`,
    kind,
    severity,
    summary,
    connectorId: input.connectorId,
    connector: input.spec.name,
    tenantId: input.tenantId,
    attemptId: input.correlationId,
    contract: { id: outcome.contractId, version: outcome.contractVersion },
    diff: errors,
    failedExpectations: failed.map((r) => ({
      expectation_type: r.expectation_config.expectation_type,
      kwargs: r.expectation_config.kwargs,
      unexpected_count: r.result.unexpected_count ?? null,
      unexpected_percent: r.result.unexpected_percent ?? null,
    })),
    evidence: [
      `/connectors/${encodeURIComponent(input.connectorId)}`,
      `/connectors/${encodeURIComponent(input.connectorId)}/receipt`,
      `event:connector.handshake/${input.eventId}`,
    ],
    openedAt: now.toISOString(),
  };
}

/** Pure: connector.schema.checked, plus connector.incident.opened when a ticket was opened. */
export function decideSchemaCheck(input: ConnectorHandshake, outcome: SchemaCheckOutcome, incident: IncidentTicket | null, delivery: string | null): ConnectorEvent[] {
  const failed = schemaMismatch(outcome) || qualityFailed(outcome);
  const checked = newEvent(
    'connector.schema.checked',
    outcome.ok
      ? {
          status: failed ? 'FAIL' : 'PASS',
          contractId: outcome.contractId,
          contractVersion: outcome.contractVersion,
          datasetsDiscovered: outcome.datasetsDiscovered,
          diff: outcome.diff.map(toDiffEntry),
          checkpoint: outcome.checkpoint ? toCheckpoint(outcome.checkpoint) : null,
          severity: severityOf(outcome),
          durationMs: outcome.durationMs,
          error: null,
        }
      : {
          status: 'ERROR',
          contractId: outcome.contractId,
          contractVersion: outcome.contractVersion,
          datasetsDiscovered: 0,
          diff: [],
          checkpoint: null,
          severity: null,
          durationMs: outcome.durationMs,
          error: outcome.error,
        },
    causedBy(input, PRODUCER, { outputType: 'connector.schema.checked' }),
  );
  // The handshake passed, so a source unreachable now is a connection lost mid-preflight.
  const alert = outcome.ok ? null : unreachableSourceAlert(checked, PRODUCER, input.spec, outcome.error, 'schema check');
  if (!incident) return alert ? [checked, alert] : [checked];
  const opened = newEvent(
    'connector.incident.opened',
    {
      incidentId: incident.incidentId,
      kind: incident.kind,
      severity: incident.severity,
      summary: incident.summary,
      diff: incident.diff.map(toDiffEntry),
      evidence: [...incident.evidence, `event:connector.schema.checked/${checked.eventId}`],
      delivery,
    },
    causedBy(checked, PRODUCER, { outputType: 'connector.incident.opened' }),
  );
  return [checked, opened];
}
