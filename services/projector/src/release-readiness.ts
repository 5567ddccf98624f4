import { parse as parseYaml } from 'yaml';
import { contractDatasets, expectationDataset, parseContract, type DataContract } from '@preflight/contracts';
import type { ConnectorState } from './state.js';

export type Verdict = 'PASS' | 'FAIL' | 'UNKNOWN';

/** One expectation (or schema difference) that keeps a dataset from release. */
export interface FailingExpectation {
  expectation: string;
  column: string | null;
  kwargs: Record<string, unknown>;
  unexpectedCount: number | null;
  unexpectedPercent: number | null;
  message: string;
}

/** One row of the release-readiness matrix: a dataset as one connector's contract promises it. */
export interface ReleaseRow {
  tenant: string;
  dataset: string;
  connector: string;
  connectorName: string;
  connectorStatus: string;
  schemaAdherence: Verdict;
  dataQuality: Verdict;
  /** The checkpoint the verdicts come from: the connector's last receipt. */
  lastCheckpoint: { attemptId: string; at: string; status: 'READY' | 'FAILED'; evaluated: number; successful: number } | null;
  /** Where to see the evidence: the receipt (API) and the events it was decided from (Kafka). */
  evidence: { receipt: string; connector: string; events: string[] };
  pass: boolean;
  /** Why not, in words, when `pass` is false. */
  reasons: string[];
  failing: FailingExpectation[];
}

interface ReceiptDoc {
  attempt_id?: string;
  status?: 'READY' | 'FAILED';
  finished_at?: string;
  evidence?: string[];
  schema_check?: {
    status?: string;
    differences?: Array<{ kind: string; dataset: string; field: string | null; expected: string | null; actual: string | null; severity: string }>;
    checkpoint?: {
      evaluated_expectations?: number;
      successful_expectations?: number;
      expectations?: Array<{ expectation_type: string; expected: Record<string, unknown>; success: boolean; unexpected_count: number | null; unexpected_percent: number | null; error?: { message: string } | null }>;
    } | null;
  };
}

function contractOf(c: ConnectorState): DataContract | null {
  if (!c.spec.contractYaml) return null;
  try {
    return parseContract(c.spec.contractYaml);
  } catch {
    return null;
  }
}

/**
 * Pure: the release-readiness matrix from the projection's connectors. One row per dataset of each
 * connector's current contract; schema adherence and data quality come from the last checkpoint
 * (the last receipt), and a row passes only when the connector is READY on its current spec and
 * both verdicts for that dataset are PASS. A connector that was updated since its last preflight,
 * is failing, or is retired does not pass, whatever its older receipt says.
 */
export function releaseReadiness(connectors: Iterable<ConnectorState>): ReleaseRow[] {
  const rows: ReleaseRow[] = [];
  for (const c of connectors) {
    const contract = contractOf(c);
    if (!contract) continue;
    const receipt = c.lastReceipt ? ((parseYaml(c.lastReceipt.yaml) ?? {}) as ReceiptDoc) : null;
    const check = receipt?.schema_check;
    const checkpoint = check?.checkpoint ?? null;
    const url = `/api/connectors/${encodeURIComponent(c.connectorId)}`;
    for (const dataset of contractDatasets(contract)) {
      const diffs = (check?.differences ?? []).filter((d) => d.dataset === dataset && d.severity === 'ERROR');
      // An expectation nobody can place (a table-level rule of a many-dataset contract) counts against every dataset: the gate errs on the safe side.
      const mine = (checkpoint?.expectations ?? []).filter((e) => {
        const owner = expectationDataset(contract, e.expected ?? {});
        return owner === null || owner === dataset;
      });
      const schemaAdherence: Verdict = !check || !check.differences ? 'UNKNOWN' : diffs.length ? 'FAIL' : check.status === 'ERROR' ? 'UNKNOWN' : 'PASS';
      const dataQuality: Verdict = !checkpoint ? 'UNKNOWN' : mine.some((e) => !e.success) ? 'FAIL' : 'PASS';
      const failing: FailingExpectation[] = [
        ...diffs.map((d) => ({ expectation: `schema:${d.kind}`, column: d.field, kwargs: { expected: d.expected, actual: d.actual }, unexpectedCount: null, unexpectedPercent: null, message: `${d.dataset}${d.field ? `.${d.field}` : ''}: expected ${d.expected ?? '—'}, found ${d.actual ?? '—'}` })),
        ...mine
          .filter((e) => !e.success)
          .map((e) => {
            const column = typeof e.expected?.['column'] === 'string' ? e.expected['column'] : null;
            return { expectation: e.expectation_type, column, kwargs: e.expected ?? {}, unexpectedCount: e.unexpected_count, unexpectedPercent: e.unexpected_percent, message: e.error?.message ?? `${e.expectation_type}${column ? ` on ${column}` : ''}: ${e.unexpected_count ?? '?'} unexpected (${e.unexpected_percent ?? '?'}%)` };
          }),
      ];
      const reasons: string[] = [];
      if (c.status !== 'READY') reasons.push(c.status === 'RETIRED' ? 'the connector is retired' : c.status === 'REGISTERED' && c.lastReceipt ? 'the connector changed since its last preflight' : `the connector is ${c.status}`);
      if (schemaAdherence !== 'PASS') reasons.push(`schema adherence ${schemaAdherence}`);
      if (dataQuality !== 'PASS') reasons.push(`data quality ${dataQuality}`);
      for (const f of failing) reasons.push(`failing: ${f.expectation}${f.column ? `(${f.column})` : ''}`);
      rows.push({
        tenant: c.tenantId,
        dataset,
        connector: c.connectorId,
        connectorName: c.name,
        connectorStatus: c.status,
        schemaAdherence,
        dataQuality,
        lastCheckpoint: c.lastReceipt ? { attemptId: c.lastReceipt.attemptId, at: c.lastReceipt.validatedAt, status: c.lastReceipt.status, evaluated: checkpoint?.evaluated_expectations ?? 0, successful: checkpoint?.successful_expectations ?? 0 } : null,
        evidence: { receipt: `${url}/receipt`, connector: url, events: receipt?.evidence ?? [] },
        pass: reasons.length === 0,
        reasons,
        failing,
      });
    }
  }
  return rows.sort((a, b) => a.tenant.localeCompare(b.tenant) || a.dataset.localeCompare(b.dataset) || a.connector.localeCompare(b.connector));
}

/** The gate for one dataset: every row that serves it must pass. */
export function gate(rows: ReleaseRow[], dataset: string): { dataset: string; pass: boolean; rows: ReleaseRow[]; reasons: string[] } {
  // `<connectorId>:<dataset>` names one connector's dataset when several serve the same name.
  const sep = dataset.lastIndexOf(':');
  const match = sep > 0 ? rows.filter((r) => r.connector === dataset.slice(0, sep) && r.dataset === dataset.slice(sep + 1)) : rows.filter((r) => r.dataset === dataset);
  return { dataset, pass: match.length > 0 && match.every((r) => r.pass), rows: match, reasons: match.flatMap((r) => r.reasons.map((x) => `${r.connector}: ${x}`)) };
}
