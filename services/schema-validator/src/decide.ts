import { createHash } from 'node:crypto';
import type { CheckpointResult, DiffEntry as ContractDiffEntry } from '@preflight/contracts';
import { causedBy, derivedEventId, newEvent, unreachableSourceAlert, type Checkpoint, type ConnectorEvent, type ConnectorHandshake, type ConnectorIncidentOpened, type ConnectorIncidentResolved, type DiffEntry, type ErrorInfo } from '@preflight/events';

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

/** What the validator remembers of an open incident: enough to resolve it and tell the sink. */
export interface OpenIncident {
  incidentId: string;
  kind: string;
  severity: string;
  summary: string;
  /** occurredAt of its newest occurrence. */
  lastSeenAt: string;
}

/** The resolve message for an incident sink; the attempt is the one that showed the problem gone. */
export interface IncidentResolution extends Pick<ConnectorIncidentResolved, 'incidentId' | 'kind' | 'severity' | 'reason' | 'supersededBy' | 'summary'> {
  connectorId: string;
  connector: string;
  tenantId: string;
  attemptId: string;
  resolvedAt: string;
}

/**
 * Pure: the open incidents a finished check ends. A passing check ends them all; a failing one
 * ends every other problem (its fingerprint — the set of failing checks — changed, so the old
 * ticket no longer describes the source) and keeps its own. A check that could not run says
 * nothing about the source and ends none.
 */
export function resolutionsFor(input: ConnectorHandshake, outcome: SchemaCheckOutcome, ticket: IncidentTicket | null, open: readonly OpenIncident[], now: Date): IncidentResolution[] {
  if (!outcome.ok) return [];
  return open
    .filter((o) => o.incidentId !== ticket?.incidentId)
    .map((o) => ({
      incidentId: o.incidentId,
      kind: o.kind,
      severity: o.severity,
      reason: ticket ? 'SUPERSEDED' : 'PASSED',
      supersededBy: ticket?.incidentId ?? null,
      summary: ticket
        ? `${input.spec.name}: ${o.incidentId} no longer matches the source; the check now fails differently (${ticket.incidentId})`
        : `${input.spec.name}: the schema and quality check passed against contract ${outcome.contractId} v${outcome.contractVersion}`,
      connectorId: input.connectorId,
      connector: input.spec.name,
      tenantId: input.tenantId,
      attemptId: input.correlationId,
      resolvedAt: now.toISOString(),
    }));
}

/**
 * The open incidents per connector, folded from connector.incident.opened/resolved in any order:
 * an incident is open while its newest occurrence is later than its newest resolution, so the log
 * read back at start (topics in parallel) and the live stream give the same answer.
 */
export class OpenIncidents {
  private readonly byConnector = new Map<string, Map<string, OpenIncident & { resolvedAt: string }>>();

  apply(e: ConnectorIncidentOpened | ConnectorIncidentResolved): void {
    let known = this.byConnector.get(e.connectorId);
    if (!known) this.byConnector.set(e.connectorId, (known = new Map<string, OpenIncident & { resolvedAt: string }>()));
    const prior = known.get(e.incidentId) ?? { incidentId: e.incidentId, kind: e.kind, severity: e.severity, summary: e.summary, lastSeenAt: '', resolvedAt: '' };
    if (e.eventType === 'connector.incident.opened') {
      if (e.occurredAt > prior.lastSeenAt) known.set(e.incidentId, { ...prior, kind: e.kind, severity: e.severity, summary: e.summary, lastSeenAt: e.occurredAt });
    } else if (e.occurredAt > prior.resolvedAt) known.set(e.incidentId, { ...prior, resolvedAt: e.occurredAt });
  }

  of(connectorId: string): OpenIncident[] {
    return [...(this.byConnector.get(connectorId)?.values() ?? [])].filter((i) => i.lastSeenAt > i.resolvedAt).map(({ resolvedAt: _, ...open }) => open);
  }
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
      severity: r.expectation_config.meta.severity,
      ruleSeverity: r.expectation_config.meta.ruleSeverity ?? null,
      unexpectedRows: r.result.unexpected_rows ?? [],
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
export function incidentFor(input: ConnectorHandshake, outcome: SchemaCheckOutcome, now: Date): IncidentTicket | null {
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

/**
 * Pure: connector.schema.checked, connector.incident.resolved for each incident the check ended
 * (with its sink delivery), and connector.incident.opened when a ticket was opened.
 */
export function decideSchemaCheck(
  input: ConnectorHandshake,
  outcome: SchemaCheckOutcome,
  incident: IncidentTicket | null,
  delivery: string | null,
  resolutions: ReadonlyArray<{ resolution: IncidentResolution; delivery: string | null }> = [],
): ConnectorEvent[] {
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
  // Ids derive from the check and the incident: a redelivered handshake resolves each one once.
  const resolved = resolutions.map(({ resolution: r, delivery: d }) =>
    newEvent(
      'connector.incident.resolved',
      { incidentId: r.incidentId, kind: r.kind, severity: r.severity, reason: r.reason, supersededBy: r.supersededBy, summary: r.summary, evidence: [`event:connector.schema.checked/${checked.eventId}`], delivery: d },
      causedBy(checked, PRODUCER, { eventId: derivedEventId(checked.eventId, 'connector.incident.resolved', r.incidentId), idempotencyKey: `connector.incident.resolved:${r.incidentId}/${r.attemptId}`, occurredAt: new Date(r.resolvedAt) }),
    ),
  );
  if (!incident) return [checked, ...(alert ? [alert] : []), ...resolved];
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
  return [checked, ...resolved, opened];
}
