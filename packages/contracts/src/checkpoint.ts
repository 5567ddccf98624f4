import { REDACTED } from '@preflight/core';
import { columnName, customProperty, datasetName, isPii, type DataContract } from './contract.js';
import { compileExpectations, meetsThreshold, type Expectation, type Threshold } from './expectations.js';
import { SLA_EXPECTATIONS, timestampMs } from './sla.js';

export type Row = Record<string, unknown>;

/** How a checkpoint reaches the data: pushdown SQL, or a bounded sample of rows. */
export type CheckpointExecutor =
  | {
      kind: 'sql';
      dialect: 'postgres' | 'mysql';
      quoteIdent(name: string): string;
      query(sql: string, params: unknown[]): Promise<Row[]>;
    }
  | { kind: 'rows'; sample(dataset: string, limit: number): Promise<{ rows: Row[]; truncated: boolean }> };

/** Great Expectations' validation result format. */
export interface ExpectationValidationResult {
  expectation_config: { expectation_type: string; kwargs: Record<string, unknown>; meta: ResultMeta };
  success: boolean;
  result: {
    element_count?: number;
    missing_count?: number;
    unexpected_count?: number;
    unexpected_percent?: number | null;
    partial_unexpected_list?: unknown[];
    /**
     * GE's `unexpected_rows` (result_format COMPLETE with include_unexpected_rows): failed-row
     * samples, only when requested, at most `failedRowSamples` rows of the contract's columns, as
     * text, PII-classified and secret-named columns redacted.
     */
    unexpected_rows?: Array<Record<string, string | null>>;
    /** For an ODCS metric: its count (rows, or duplicated values for duplicateValues). */
    observed_value?: unknown;
    /**
     * With `unit: percent`: that count over every row of the table, as the threshold saw it. For
     * freshness / retention: the newest / oldest timestamp whose age (seconds) is observed_value.
     */
    details?: { percent_of_rows?: number; latest_timestamp?: string; oldest_timestamp?: string };
  };
  /** `error_code` is the preflight's stable code (PERMISSION, TIMEOUT…), beside GE's fields. */
  exception_info: { raised_exception: boolean; exception_message: string | null; error_code?: string };
}

/** What a result says about its origin: GE's meta plus the ODCS clause, rule id, severity and threshold. */
export interface ResultMeta {
  dataset: string;
  column?: string;
  pii: boolean;
  source: string;
  clause: Expectation['meta']['clause'];
  ruleId?: string;
  severity: 'error' | 'warning';
  /** The rule's ODCS `severity` as the contract writes it (`severity` is what it means here). */
  ruleSeverity?: string;
  threshold?: Threshold;
}

export interface CheckpointResult {
  success: boolean;
  /** `warnings`: failed expectations whose rule has a non-blocking severity; they do not fail the checkpoint. */
  statistics: { evaluated_expectations: number; successful_expectations: number; unsuccessful_expectations: number; success_percent: number | null; warnings: number };
  results: ExpectationValidationResult[];
  meta: { contract_id: string; contract_version: string; run_id: string | null; engine: 'pushdown-sql' | 'sample'; sample_limit?: number };
}

const PARTIAL = 20;
export const DEFAULT_MAX_FAILED_ROW_SAMPLES = 20;
const SAMPLE_LIMIT = 10_000;

/** A column-values metric before thresholds decide success. */
interface Metric {
  element: number;
  missing: number;
  /** GE's unexpected_count: rows. */
  unexpected: number;
  partial: unknown[];
  /** Share of unexpected in the non-missing values (GE's default) or in all rows (not_null). */
  basis: 'nonmissing' | 'all';
  /** The ODCS metric when it counts something else than rows (duplicateValues: duplicated values). */
  odcs?: number;
}

/**
 * GE's counts are reported as GE computes them; an ODCS threshold is decided on the ODCS metric:
 * a count (rows, or duplicated values for duplicateValues) or, with `unit: percent`, that count
 * over every row of the table — how the standard and datacontract-cli define it.
 */
function decide(e: Expectation, m: Metric): ExpectationValidationResult['result'] & { success: boolean } {
  const denom = m.basis === 'all' ? m.element : m.element - m.missing;
  const pct = denom > 0 ? (m.unexpected / denom) * 100 : 0;
  const odcs = m.odcs ?? m.unexpected;
  let success: boolean;
  let percentOfRows: number | undefined;
  const t = e.meta.threshold;
  if (t) {
    if (t.unit === 'percent') percentOfRows = m.element > 0 ? Math.round((odcs / m.element) * 100 * 1e6) / 1e6 : 0;
    success = meetsThreshold(t, percentOfRows ?? odcs);
  } else {
    const mostly = typeof e.kwargs['mostly'] === 'number' ? e.kwargs['mostly'] : 1;
    success = denom === 0 ? true : m.unexpected / denom <= 1 - mostly + 1e-12;
  }
  const partial = m.partial.slice(0, PARTIAL).map((v) => (e.meta.pii ? REDACTED : v));
  return { success, element_count: m.element, missing_count: m.missing, unexpected_count: m.unexpected, unexpected_percent: Math.round(pct * 1e6) / 1e6, partial_unexpected_list: partial, observed_value: odcs, ...(percentOfRows !== undefined ? { details: { percent_of_rows: percentOfRows } } : {}) };
}

const isMissing = (v: unknown, extra: unknown[] = []): boolean => v === null || v === undefined || extra.some((x) => x === v);
const asNumber = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v));

// ---------- in memory, over a bounded sample ----------

/**
 * An evaluation before it becomes a result: besides GE's fields, how to find the offending rows
 * again (the rows themselves on a sample, a condition on SQL), for failed-row samples.
 */
type Evaluated = ExpectationValidationResult['result'] & { success: boolean; offending?: Row[] | { where: string; params: unknown[] } };

/**
 * Freshness / retention as datacontract-cli decides them: the age of the newest (oldest) timestamp
 * must be strictly below the threshold; no timestamp at all fails.
 */
function ageResult(e: Expectation, atMs: number | null, now: number): Evaluated {
  if (atMs === null) return { success: false, observed_value: null };
  const age = Math.floor((now - atMs) / 1000);
  const key = e.expectation_type === SLA_EXPECTATIONS.freshness ? 'latest_timestamp' : 'oldest_timestamp';
  return { success: (now - atMs) / 1000 < Number(e.kwargs['max_age_seconds']), observed_value: age, details: { [key]: new Date(atMs).toISOString() } };
}

function evaluateRows(e: Expectation, rows: Row[], now: number): Evaluated {
  const col = e.kwargs['column'] as string | undefined;
  const values = col === undefined ? [] : rows.map((r) => r[col]);
  const nonMissingRows = col === undefined ? [] : rows.filter((r) => !isMissing(r[col]));
  const nonMissing = nonMissingRows.map((r) => r[col!]);
  const cm = (unexpected: unknown[], basis: Metric['basis'] = 'nonmissing', missing = values.length - nonMissing.length): Metric => ({ element: values.length, missing, unexpected: unexpected.length, partial: unexpected, basis });
  /** Column-values expectations: the rows whose value is unexpected decide, and are kept as evidence. */
  const byRows = (bad: Row[], basis: Metric['basis'] = 'nonmissing', missing?: number, odcs?: number): Evaluated => ({
    ...decide(e, { ...cm(bad.map((r) => r[col!]), basis, missing), ...(odcs !== undefined ? { odcs } : {}) }),
    offending: bad,
  });
  switch (e.expectation_type) {
    case 'expect_column_to_exist': {
      const exists = rows.length === 0 || (col !== undefined && rows.some((r) => Object.hasOwn(r, col)));
      return { success: exists, observed_value: exists };
    }
    case 'expect_table_columns_to_match_set': {
      const observed = Object.keys(rows[0] ?? {}).sort();
      const want = [...((e.kwargs['column_set'] as string[]) ?? [])].sort();
      const exact = e.kwargs['exact_match'] !== false;
      const ok = exact ? JSON.stringify(observed) === JSON.stringify(want) : want.every((c) => observed.includes(c));
      return { success: rows.length === 0 || ok, observed_value: observed };
    }
    case 'expect_column_values_to_not_be_null': {
      const extra = e.meta.missingValues ?? [];
      return byRows(rows.filter((r) => isMissing(r[col!], extra)), 'all', 0);
    }
    case 'expect_column_values_to_be_unique': {
      const counts = new Map<string, number>();
      for (const v of nonMissing) counts.set(JSON.stringify(v), (counts.get(JSON.stringify(v)) ?? 0) + 1);
      const dupValues = [...counts.values()].filter((n) => n > 1).length;
      return byRows(nonMissingRows.filter((r) => (counts.get(JSON.stringify(r[col!])) ?? 0) > 1), 'nonmissing', undefined, dupValues);
    }
    case 'expect_compound_columns_to_be_unique': {
      const cols = e.kwargs['column_list'] as string[];
      // As with SQL UNIQUE, a key with a null part duplicates nothing.
      const keyed = rows.filter((r) => cols.every((c) => !isMissing(r[c])));
      const keyOf = (r: Row): string => JSON.stringify(cols.map((c) => r[c]));
      const counts = new Map<string, number>();
      for (const r of keyed) counts.set(keyOf(r), (counts.get(keyOf(r)) ?? 0) + 1);
      const badRows = keyed.filter((r) => (counts.get(keyOf(r)) ?? 0) > 1);
      const bad = badRows.map(keyOf);
      return { ...decide(e, { element: rows.length, missing: 0, unexpected: bad.length, partial: bad, basis: 'all', odcs: [...counts.values()].filter((n) => n > 1).length }), offending: badRows };
    }
    case 'expect_column_values_to_be_in_set': {
      const set = new Set(((e.kwargs['value_set'] as unknown[]) ?? []).map(String));
      return byRows(nonMissingRows.filter((r) => !set.has(String(r[col!]))));
    }
    case 'expect_column_values_to_match_regex': {
      const re = new RegExp(String(e.kwargs['regex']));
      return byRows(nonMissingRows.filter((r) => !re.test(String(r[col!]))));
    }
    case 'expect_column_values_to_be_between':
    case 'expect_column_value_lengths_to_be_between': {
      const min = e.kwargs['min_value'] as number | null | undefined;
      const max = e.kwargs['max_value'] as number | null | undefined;
      const of = e.expectation_type === 'expect_column_values_to_be_between' ? asNumber : (v: unknown): number => String(v).length;
      const low = (x: number): boolean => min != null && (e.kwargs['strict_min'] === true ? x <= min : x < min);
      const high = (x: number): boolean => max != null && (e.kwargs['strict_max'] === true ? x >= max : x > max);
      return byRows(nonMissingRows.filter((r) => low(of(r[col!])) || high(of(r[col!]))));
    }
    case 'expect_table_row_count_to_be_between': {
      const n = rows.length;
      return { success: rowCountOk(e, n), observed_value: n };
    }
    case SLA_EXPECTATIONS.freshness:
    case SLA_EXPECTATIONS.retention: {
      const times = values.map(timestampMs).filter((x): x is number => x !== null);
      const newest = e.expectation_type === SLA_EXPECTATIONS.freshness;
      return ageResult(e, times.length ? (newest ? Math.max(...times) : Math.min(...times)) : null, now);
    }
    default:
      throw new Error(`${e.expectation_type} needs a SQL source (pushdown); this source is evaluated on a sample`);
  }
}

function rowCountOk(e: Expectation, n: number): boolean {
  // ODCS has no percent of a row count (datacontract-cli refuses it too): always rows.
  if (e.meta.threshold) return meetsThreshold({ ...e.meta.threshold, unit: 'rows' }, n);
  const min = e.kwargs['min_value'] as number | null | undefined;
  const max = e.kwargs['max_value'] as number | null | undefined;
  return (min == null || n >= min) && (max == null || n <= max);
}

// ---------- pushdown SQL ----------

/** Dataset (lower case) to its columns (lower case), as the source's catalog lists them. */
export type Catalog = Map<string, Set<string>>;

function tableRef(quote: (s: string) => string, dataset: string): string {
  return dataset.split('.').map(quote).join('.');
}

/**
 * The part of an expectation that is an aggregate over one full scan of its table: the condition
 * rows fail (counted expectations), the row count, or the newest/oldest timestamp. `p` places a
 * parameter and returns its placeholder, so the same fragment fits a query of its own or one
 * shared by every expectation of the dataset.
 */
type ScanPart = { kind: 'counted'; where: string; basis: Metric['basis'] } | { kind: 'rows' } | { kind: 'epoch'; expr: string };

function scanPart(e: Expectation, q: (s: string) => string, pg: boolean, p: (v: unknown) => string): ScanPart | null {
  const col = e.kwargs['column'] as string | undefined;
  const c = col === undefined ? '' : q(col);
  const text = (x: string): string => (pg ? `CAST(${x} AS TEXT)` : `CAST(${x} AS CHAR)`);
  switch (e.expectation_type) {
    case 'expect_column_values_to_not_be_null': {
      const extra = e.meta.missingValues ?? [];
      return { kind: 'counted', where: extra.length ? `(${c} IS NULL OR ${text(c)} IN (${extra.map((v) => p(String(v))).join(', ')}))` : `${c} IS NULL`, basis: 'all' };
    }
    case 'expect_column_values_to_be_in_set': {
      const set = ((e.kwargs['value_set'] as unknown[]) ?? []).map((v) => p(String(v)));
      return { kind: 'counted', where: set.length ? `${c} IS NOT NULL AND ${text(c)} NOT IN (${set.join(', ')})` : `${c} IS NOT NULL`, basis: 'nonmissing' };
    }
    case 'expect_column_values_to_match_regex': {
      const re = p(String(e.kwargs['regex']));
      return { kind: 'counted', where: pg ? `${c} IS NOT NULL AND ${text(c)} !~ ${re}` : `${c} IS NOT NULL AND ${text(c)} NOT REGEXP ${re}`, basis: 'nonmissing' };
    }
    case 'expect_column_values_to_be_between':
    case 'expect_column_value_lengths_to_be_between': {
      const v = e.expectation_type === 'expect_column_values_to_be_between' ? c : pg ? `LENGTH(${text(c)})` : `CHAR_LENGTH(${text(c)})`;
      const parts: string[] = [];
      if (e.kwargs['min_value'] != null) parts.push(`${v} ${e.kwargs['strict_min'] === true ? '<=' : '<'} ${p(e.kwargs['min_value'])}`);
      if (e.kwargs['max_value'] != null) parts.push(`${v} ${e.kwargs['strict_max'] === true ? '>=' : '>'} ${p(e.kwargs['max_value'])}`);
      return { kind: 'counted', where: parts.length ? `${c} IS NOT NULL AND (${parts.join(' OR ')})` : '1 = 0', basis: 'nonmissing' };
    }
    case 'expect_table_row_count_to_be_between':
      return { kind: 'rows' };
    case SLA_EXPECTATIONS.freshness:
    case SLA_EXPECTATIONS.retention: {
      // Epoch seconds computed by the database: a timestamp without time zone counts as UTC, as
      // datacontract-cli takes it, whatever the time zone of this process or the session.
      const agg = `${e.expectation_type === SLA_EXPECTATIONS.freshness ? 'MAX' : 'MIN'}(${c})`;
      return { kind: 'epoch', expr: pg ? `EXTRACT(EPOCH FROM ${agg})` : `TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${agg}) / 1000000` };
    }
    default:
      return null;
  }
}

/**
 * One query per dataset for the scan parts of all its expectations, as Soda and Great
 * Expectations batch metrics: each expectation used to be a full scan and a round trip of its own,
 * ~20 for a two-table contract (issue 14). Each expectation reads its own columns of the one row
 * (`n`, `nn<i>`, `u<i>`, `t<i>`), what its own query would have answered. Expectations on a column
 * the catalog lacks stay out: their own query reports that error.
 */
function datasetScan(expectations: Expectation[], ex: Extract<CheckpointExecutor, { kind: 'sql' }>, catalog?: Catalog): { sql: string; params: unknown[]; rows: Map<Expectation, (r: Row) => Row> } | null {
  const first = expectations[0];
  if (!first) return null;
  const pg = ex.dialect === 'postgres';
  const q = (s: string): string => ex.quoteIdent(s);
  const params: unknown[] = [];
  const p = (v: unknown): string => (params.push(v), pg ? `$${params.length}` : '?');
  const select = ['COUNT(*) AS n'];
  const rows = new Map<Expectation, (r: Row) => Row>();
  const known = catalog?.get(first.meta.dataset.toLowerCase());
  for (const e of expectations) {
    const col = e.kwargs['column'] as string | undefined;
    if (col !== undefined && catalog && !known?.has(col.toLowerCase())) continue;
    const part = scanPart(e, q, pg, p);
    if (!part) continue;
    const i = rows.size;
    if (part.kind === 'counted') {
      select.push(`COUNT(${q(col!)}) AS nn${i}`, `SUM(CASE WHEN ${part.where} THEN 1 ELSE 0 END) AS u${i}`);
      rows.set(e, (r) => ({ n: r['n'], nn: r[`nn${i}`], u: r[`u${i}`] }));
    } else if (part.kind === 'epoch') {
      select.push(`${part.expr} AS t${i}`);
      rows.set(e, (r) => ({ t: r[`t${i}`] }));
    } else rows.set(e, (r) => ({ n: r['n'] }));
  }
  return rows.size < 2 ? null : { sql: `SELECT ${select.join(', ')} FROM ${tableRef(q, first.meta.dataset)}`, params, rows };
}

/** An expectation's aggregates from its dataset's shared scan, or null: it asks its own query. */
type SharedScan = (e: Expectation) => Promise<Row | null>;

async function evaluateSql(e: Expectation, ex: Extract<CheckpointExecutor, { kind: 'sql' }>, now: number, catalog?: Catalog, shared?: SharedScan): Promise<Evaluated> {
  const q = (s: string): string => ex.quoteIdent(s);
  const t = tableRef(q, e.meta.dataset);
  const pg = ex.dialect === 'postgres';
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return pg ? `$${params.length}` : '?';
  };
  const col = e.kwargs['column'] as string | undefined;
  const c = col === undefined ? '' : q(col);
  const one = async (sql: string): Promise<Row> => (await ex.query(sql, params))[0] ?? {};
  const scan = async (sql: string): Promise<Row> => (await shared?.(e)) ?? one(sql);
  const part = scanPart(e, q, pg, p);
  if (part?.kind === 'counted') {
    // Counted with one aggregate query (or the dataset's shared one), then at most PARTIAL offending values.
    const row = await scan(`SELECT COUNT(*) AS n, COUNT(${c}) AS nn, SUM(CASE WHEN ${part.where} THEN 1 ELSE 0 END) AS u FROM ${t}`);
    const n = asNumber(row['n'] ?? 0);
    const unexpected = asNumber(row['u'] ?? 0);
    const partial = unexpected > 0 ? (await ex.query(`SELECT ${c} AS v FROM ${t} WHERE ${part.where} LIMIT ${PARTIAL}`, params)).map((r) => r['v']) : [];
    return { ...decide(e, { element: n, missing: part.basis === 'all' ? 0 : n - asNumber(row['nn'] ?? 0), unexpected, partial, basis: part.basis }), offending: { where: part.where, params: [...params] } };
  }
  if (part?.kind === 'rows') {
    const n = asNumber((await scan(`SELECT COUNT(*) AS n FROM ${t}`))['n'] ?? 0);
    return { success: rowCountOk(e, n), observed_value: n };
  }
  if (part?.kind === 'epoch') {
    const at = (await scan(`SELECT ${part.expr} AS t FROM ${t}`))['t'];
    return ageResult(e, at === null || at === undefined ? null : asNumber(at) * 1000, now);
  }
  switch (e.expectation_type) {
    case 'expect_column_to_exist':
      // The catalog answers when the caller has it; a query can only say "cannot read".
      if (catalog) {
        const cols = catalog.get(e.meta.dataset.toLowerCase());
        const exists = cols !== undefined && col !== undefined && cols.has(col.toLowerCase());
        return { success: exists, observed_value: exists };
      }
      try {
        await ex.query(`SELECT ${c} FROM ${t} WHERE 1 = 0`, []);
        return { success: true, observed_value: true };
      } catch (err) {
        if ((err as { code?: string }).code === 'PERMISSION') throw err;
        return { success: false, observed_value: false };
      }
    case 'expect_table_columns_to_match_set': {
      const rows = await ex.query(`SELECT * FROM ${t} LIMIT 1`, []);
      return evaluateRows(e, rows, now);
    }
    case 'expect_column_values_to_be_unique': {
      // ODCS duplicateValues counts duplicated values; GE's unexpected_count counts their rows.
      // One grouping gives both the duplicated rows (u) and the duplicated values (dv): grouping
      // the column twice was the costliest query of a check (issue 14).
      const row = await one(`SELECT a.n, a.nn, d.u, d.dv FROM (SELECT COUNT(*) AS n, COUNT(${c}) AS nn FROM ${t}) a CROSS JOIN (SELECT COALESCE(SUM(k), 0) AS u, COUNT(*) AS dv FROM (SELECT COUNT(*) AS k FROM ${t} WHERE ${c} IS NOT NULL GROUP BY ${c} HAVING COUNT(*) > 1) g) d`);
      const unexpected = asNumber(row['u'] ?? 0);
      const partial = unexpected > 0 ? (await ex.query(`SELECT ${c} AS v FROM ${t} WHERE ${c} IS NOT NULL GROUP BY ${c} HAVING COUNT(*) > 1 LIMIT ${PARTIAL}`, [])).map((r) => r['v']) : [];
      const n = asNumber(row['n'] ?? 0);
      const where = `${c} IN (SELECT ${c} FROM ${t} WHERE ${c} IS NOT NULL GROUP BY ${c} HAVING COUNT(*) > 1)`;
      return { ...decide(e, { element: n, missing: n - asNumber(row['nn'] ?? 0), unexpected, partial, basis: 'nonmissing', odcs: asNumber(row['dv'] ?? 0) }), offending: { where, params: [] } };
    }
    case 'expect_compound_columns_to_be_unique': {
      const list = e.kwargs['column_list'] as string[];
      const cols = list.map(q).join(', ');
      const keyed = list.map((x) => `${q(x)} IS NOT NULL`).join(' AND ');
      const row = await one(`SELECT a.n, d.u, d.dv FROM (SELECT COUNT(*) AS n FROM ${t}) a CROSS JOIN (SELECT COALESCE(SUM(k), 0) AS u, COUNT(*) AS dv FROM (SELECT COUNT(*) AS k FROM ${t} WHERE ${keyed} GROUP BY ${cols} HAVING COUNT(*) > 1) g) d`);
      const where = `(${cols}) IN (SELECT ${cols} FROM ${t} WHERE ${keyed} GROUP BY ${cols} HAVING COUNT(*) > 1)`;
      return { ...decide(e, { element: asNumber(row['n'] ?? 0), missing: 0, unexpected: asNumber(row['u'] ?? 0), partial: [], basis: 'all', odcs: asNumber(row['dv'] ?? 0) }), offending: { where, params: [] } };
    }
    case 'expect_foreign_key_values_to_exist': {
      const list = e.kwargs['column_list'] as string[];
      const refs = (e.meta.references?.columns ?? []).map(q);
      const rt = tableRef(q, e.meta.references?.dataset ?? '');
      const keyed = list.map((x) => `s.${q(x)} IS NOT NULL`).join(' AND ');
      const orphan = `${keyed} AND NOT EXISTS (SELECT 1 FROM ${rt} r WHERE ${list.map((x, i) => `r.${refs[i]} = s.${q(x)}`).join(' AND ')})`;
      const row = await one(`SELECT COUNT(*) AS n, SUM(CASE WHEN ${orphan} THEN 1 ELSE 0 END) AS u FROM ${t} s`);
      const unexpected = asNumber(row['u'] ?? 0);
      const partial = unexpected > 0 ? (await ex.query(`SELECT ${list.map((x) => `s.${q(x)}`).join(', ')} FROM ${t} s WHERE ${orphan} LIMIT ${PARTIAL}`, [])).map((r) => (list.length === 1 ? Object.values(r)[0] : Object.values(r))) : [];
      return { ...decide(e, { element: asNumber(row['n'] ?? 0), missing: 0, unexpected, partial, basis: 'all' }), offending: { where: orphan, params: [] } };
    }
    case 'expect_query_result_to_meet_threshold': {
      const sql = String(e.meta.query).replaceAll('${object}', t).replaceAll('${property}', c || '');
      const row = await one(sql);
      const first = Object.values(row)[0];
      const value = asNumber(first);
      return { success: e.meta.threshold ? meetsThreshold(e.meta.threshold, value) : false, observed_value: value };
    }
    default:
      throw new Error(`unsupported expectation ${e.expectation_type}`);
  }
}

export interface CheckpointOptions {
  runId?: string;
  sampleLimit?: number;
  /**
   * The most failed-row samples (GE's `unexpected_rows`) per failed expectation the platform allows;
   * a contract asks for them with the custom property `failedRowSamples` (none when it does not).
   */
  maxFailedRowSamples?: number;
  /** The source's catalog from discovery: existence is read from it, not probed with queries. */
  catalog?: Catalog;
  /** What freshness and retention measure ages from; the clock by default. */
  now?: Date;
}

const errorCode = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
};

/** Failures that block: a failed expectation whose rule is not of a non-blocking severity. */
export const blocking = (r: ExpectationValidationResult): boolean => !r.success && r.expectation_config.meta.severity !== 'warning';

/**
 * Runs every expectation of a contract as one checkpoint. One failing or erroring expectation
 * never stops the others: an error becomes `exception_info` and `success: false`. On SQL sources
 * each dataset is probed once first: a dataset the principal cannot read fails its data
 * expectations with that PERMISSION error instead of sending every query into the same wall.
 */
export async function runCheckpoint(contract: DataContract, executor: CheckpointExecutor, options: CheckpointOptions = {}): Promise<CheckpointResult> {
  const expectations = compileExpectations(contract);
  const samples = new Map<string, Promise<Row[]>>();
  const sampleOf = (dataset: string): Promise<Row[]> => {
    if (executor.kind !== 'rows') return Promise.resolve([]);
    let s = samples.get(dataset);
    if (!s) {
      s = executor.sample(dataset, options.sampleLimit ?? SAMPLE_LIMIT).then((r) => r.rows);
      samples.set(dataset, s);
    }
    return s;
  };
  const denied = new Map<string, Promise<Error | null>>();
  const probe = (dataset: string): Promise<Error | null> => {
    if (executor.kind !== 'sql') return Promise.resolve(null);
    let p = denied.get(dataset);
    if (!p) {
      p = executor.query(`SELECT 1 AS one FROM ${tableRef((x) => executor.quoteIdent(x), dataset)} WHERE 1 = 0`, []).then(
        () => null,
        (err: unknown) => (errorCode(err) === 'PERMISSION' && err instanceof Error ? err : null),
      );
      denied.set(dataset, p);
    }
    return p;
  };
  const requested = Number(customProperty(contract, 'failedRowSamples') ?? 0);
  const now = (options.now ?? new Date()).getTime();
  const rowLimit = Math.max(0, Math.floor(Math.min(Number.isFinite(requested) ? requested : 0, options.maxFailedRowSamples ?? DEFAULT_MAX_FAILED_ROW_SAMPLES)));
  const shown = sampleColumns(contract, options.catalog);
  /** At most `rowLimit` offending rows, the contract's columns only, redacted: evidence, not an extract. */
  const failedRows = async (dataset: string, offending: NonNullable<Evaluated['offending']>): Promise<Array<Record<string, string | null>>> => {
    const cols = shown.get(dataset) ?? [];
    if (cols.length === 0) return [];
    let rows: Row[];
    if (Array.isArray(offending)) rows = offending.slice(0, rowLimit);
    else if (executor.kind === 'sql') {
      const q = (x: string): string => executor.quoteIdent(x);
      rows = await executor.query(`SELECT ${cols.map((c) => `s.${q(c.name)} AS ${q(c.name)}`).join(', ')} FROM ${tableRef(q, dataset)} s WHERE ${offending.where} LIMIT ${rowLimit}`, offending.params);
    } else rows = [];
    // A null says nothing about the person it would belong to: only values are redacted.
    return rows.map((row) => Object.fromEntries(cols.map((c) => [c.name, redactText(c.redact, asText(row[c.name]))])));
  };
  const scans = new Map<string, Promise<Map<Expectation, Row> | null>>();
  const shared: SharedScan = async (e) => {
    if (executor.kind !== 'sql') return null;
    let scan = scans.get(e.meta.dataset);
    if (!scan) {
      const batch = datasetScan(expectations.filter((x) => x.meta.dataset === e.meta.dataset), executor, options.catalog);
      // A shared query that fails (one expectation's bad regex or type) answers nobody: each
      // expectation then asks its own query and gets its own error, as without the batch.
      scan = batch
        ? executor.query(batch.sql, batch.params).then(
            (r) => new Map([...batch.rows].map(([x, pick]) => [x, pick(r[0] ?? {})])),
            () => null,
          )
        : Promise.resolve(null);
      scans.set(e.meta.dataset, scan);
    }
    return (await scan)?.get(e) ?? null;
  };
  const results: ExpectationValidationResult[] = [];
  for (const e of expectations) {
    const { query: _q, missingValues: _m, references: _r, ...meta } = e.meta;
    const config = { expectation_type: e.expectation_type, kwargs: e.kwargs, meta };
    try {
      const needsData = !(e.expectation_type === 'expect_column_to_exist' && options.catalog);
      const wall = needsData ? await probe(e.meta.dataset) : null;
      if (wall) throw wall;
      const r = executor.kind === 'sql' ? await evaluateSql(e, executor, now, options.catalog, shared) : evaluateRows(e, await sampleOf(e.meta.dataset), now);
      const { success, offending, ...result } = r;
      if (!success && offending && rowLimit > 0) result.unexpected_rows = await failedRows(e.meta.dataset, offending);
      results.push({ expectation_config: config, success, result, exception_info: { raised_exception: false, exception_message: null } });
    } catch (err) {
      const code = errorCode(err);
      results.push({ expectation_config: config, success: false, result: {}, exception_info: { raised_exception: true, exception_message: (err as Error).message, ...(code ? { error_code: code } : {}) } });
    }
  }
  const ok = results.filter((r) => r.success).length;
  const warnings = results.filter((r) => !r.success && !blocking(r)).length;
  return {
    success: !results.some(blocking),
    statistics: {
      evaluated_expectations: results.length,
      successful_expectations: ok,
      unsuccessful_expectations: results.length - ok,
      success_percent: results.length ? Math.round((ok / results.length) * 10_000) / 100 : null,
      warnings,
    },
    results,
    meta: {
      contract_id: contract.id,
      contract_version: contract.version,
      run_id: options.runId ?? null,
      engine: executor.kind === 'sql' ? 'pushdown-sql' : 'sample',
      ...(executor.kind === 'rows' ? { sample_limit: options.sampleLimit ?? SAMPLE_LIMIT } : {}),
    },
  };
}

/** Names that hold credentials whatever the contract says about them. */
const SECRET_NAME = /pass(word|wd)?|secret|token|api_?key|credential|private_?key/i;

/** Per dataset, the columns a failed-row sample shows (those the source has, when its catalog is known) and which to redact. */
function sampleColumns(contract: DataContract, catalog?: Catalog): Map<string, Array<{ name: string; redact: boolean }>> {
  const out = new Map<string, Array<{ name: string; redact: boolean }>>();
  for (const o of contract.schema) {
    const dataset = datasetName(o);
    const present = catalog?.get(dataset.toLowerCase());
    out.set(
      dataset,
      o.properties.map((p) => ({ name: columnName(p), redact: isPii(p) || SECRET_NAME.test(columnName(p)) || SECRET_NAME.test(p.name) })).filter((c) => !present || present.has(c.name.toLowerCase())),
    );
  }
  return out;
}

const redactText = (redact: boolean, v: string | null): string | null => (redact && v !== null ? REDACTED : v);

function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? null;
}

/** A failed checkpoint is V2; V3 when a failed expectation touches a PII or regulated field. */
export function checkpointSeverity(result: Pick<CheckpointResult, 'success' | 'results'>, _contract?: DataContract): 'V2' | 'V3' | null {
  if (result.success) return null;
  return result.results.some((r) => blocking(r) && r.expectation_config.meta.pii) ? 'V3' : 'V2';
}
