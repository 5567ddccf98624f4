import { REDACTED } from '@preflight/core';
import type { DataContract } from './contract.js';
import { compileExpectations, meetsThreshold, type Expectation } from './expectations.js';

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
  expectation_config: { expectation_type: string; kwargs: Record<string, unknown>; meta: { dataset: string; column?: string; pii: boolean; source: string } };
  success: boolean;
  result: {
    element_count?: number;
    missing_count?: number;
    unexpected_count?: number;
    unexpected_percent?: number | null;
    partial_unexpected_list?: unknown[];
    observed_value?: unknown;
  };
  exception_info: { raised_exception: boolean; exception_message: string | null };
}

export interface CheckpointResult {
  success: boolean;
  statistics: { evaluated_expectations: number; successful_expectations: number; unsuccessful_expectations: number; success_percent: number | null };
  results: ExpectationValidationResult[];
  meta: { contract_id: string; contract_version: string; run_id: string | null; engine: 'pushdown-sql' | 'sample'; sample_limit?: number };
}

const PARTIAL = 20;
const SAMPLE_LIMIT = 10_000;

/** A column-values metric before `mostly`/thresholds decide success. */
interface Metric {
  element: number;
  missing: number;
  unexpected: number;
  partial: unknown[];
  /** Share of unexpected in the non-missing values (GE's default) or in all rows (not_null). */
  basis: 'nonmissing' | 'all';
}

function decide(e: Expectation, m: Metric): ExpectationValidationResult['result'] & { success: boolean } {
  const denom = m.basis === 'all' ? m.element : m.element - m.missing;
  const pct = denom > 0 ? (m.unexpected / denom) * 100 : 0;
  let success: boolean;
  if (e.meta.threshold) success = meetsThreshold(e.meta.threshold, e.meta.threshold.unit === 'percent' ? pct : m.unexpected);
  else {
    const mostly = typeof e.kwargs['mostly'] === 'number' ? e.kwargs['mostly'] : 1;
    success = denom === 0 ? true : m.unexpected / denom <= 1 - mostly + 1e-12;
  }
  const partial = m.partial.slice(0, PARTIAL).map((v) => (e.meta.pii ? REDACTED : v));
  return { success, element_count: m.element, missing_count: m.missing, unexpected_count: m.unexpected, unexpected_percent: Math.round(pct * 1e6) / 1e6, partial_unexpected_list: partial };
}

const isMissing = (v: unknown, extra: unknown[] = []): boolean => v === null || v === undefined || extra.some((x) => x === v);
const asNumber = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v));

// ---------- in memory, over a bounded sample ----------

function evaluateRows(e: Expectation, rows: Row[]): ExpectationValidationResult['result'] & { success: boolean } {
  const col = e.kwargs['column'] as string | undefined;
  const values = col === undefined ? [] : rows.map((r) => r[col]);
  const nonMissing = values.filter((v) => !isMissing(v));
  const cm = (unexpected: unknown[], basis: Metric['basis'] = 'nonmissing', missing = values.length - nonMissing.length): Metric => ({ element: values.length, missing, unexpected: unexpected.length, partial: unexpected, basis });
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
      const bad = values.filter((v) => isMissing(v, extra));
      return decide(e, cm(bad, 'all', 0));
    }
    case 'expect_column_values_to_be_unique': {
      const counts = new Map<string, number>();
      for (const v of nonMissing) counts.set(JSON.stringify(v), (counts.get(JSON.stringify(v)) ?? 0) + 1);
      return decide(e, cm(nonMissing.filter((v) => (counts.get(JSON.stringify(v)) ?? 0) > 1)));
    }
    case 'expect_compound_columns_to_be_unique': {
      const cols = e.kwargs['column_list'] as string[];
      const keys = rows.map((r) => JSON.stringify(cols.map((c) => r[c])));
      const counts = new Map<string, number>();
      for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
      const bad = keys.filter((k) => (counts.get(k) ?? 0) > 1);
      return decide(e, { element: rows.length, missing: 0, unexpected: bad.length, partial: bad, basis: 'all' });
    }
    case 'expect_column_values_to_be_in_set': {
      const set = new Set(((e.kwargs['value_set'] as unknown[]) ?? []).map(String));
      return decide(e, cm(nonMissing.filter((v) => !set.has(String(v)))));
    }
    case 'expect_column_values_to_match_regex': {
      const re = new RegExp(String(e.kwargs['regex']));
      return decide(e, cm(nonMissing.filter((v) => !re.test(String(v)))));
    }
    case 'expect_column_values_to_be_between': {
      const min = e.kwargs['min_value'] as number | null | undefined;
      const max = e.kwargs['max_value'] as number | null | undefined;
      return decide(e, cm(nonMissing.filter((v) => (min != null && asNumber(v) < min) || (max != null && asNumber(v) > max))));
    }
    case 'expect_table_row_count_to_be_between': {
      const n = rows.length;
      return { success: rowCountOk(e, n), observed_value: n };
    }
    default:
      throw new Error(`${e.expectation_type} needs a SQL source (pushdown); this source is evaluated on a sample`);
  }
}

function rowCountOk(e: Expectation, n: number): boolean {
  if (e.meta.threshold) return meetsThreshold(e.meta.threshold, n);
  const min = e.kwargs['min_value'] as number | null | undefined;
  const max = e.kwargs['max_value'] as number | null | undefined;
  return (min == null || n >= min) && (max == null || n <= max);
}

// ---------- pushdown SQL ----------

function tableRef(quote: (s: string) => string, dataset: string): string {
  return dataset.split('.').map(quote).join('.');
}

async function evaluateSql(e: Expectation, ex: Extract<CheckpointExecutor, { kind: 'sql' }>): Promise<ExpectationValidationResult['result'] & { success: boolean }> {
  const q = (s: string): string => ex.quoteIdent(s);
  const t = tableRef(q, e.meta.dataset);
  const pg = ex.dialect === 'postgres';
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return pg ? `$${params.length}` : '?';
  };
  const text = (c: string): string => (pg ? `CAST(${c} AS TEXT)` : `CAST(${c} AS CHAR)`);
  const col = e.kwargs['column'] as string | undefined;
  const c = col === undefined ? '' : q(col);
  const one = async (sql: string): Promise<Row> => (await ex.query(sql, params))[0] ?? {};
  /** Counts with one aggregate query, then fetches at most PARTIAL offending values. */
  const counted = async (unexpectedWhere: string, basis: Metric['basis']): Promise<ExpectationValidationResult['result'] & { success: boolean }> => {
    const row = await one(`SELECT COUNT(*) AS n, COUNT(${c}) AS nn, SUM(CASE WHEN ${unexpectedWhere} THEN 1 ELSE 0 END) AS u FROM ${t}`);
    const n = asNumber(row['n'] ?? 0);
    const unexpected = asNumber(row['u'] ?? 0);
    const partial = unexpected > 0 ? (await ex.query(`SELECT ${c} AS v FROM ${t} WHERE ${unexpectedWhere} LIMIT ${PARTIAL}`, params)).map((r) => r['v']) : [];
    return decide(e, { element: n, missing: basis === 'all' ? 0 : n - asNumber(row['nn'] ?? 0), unexpected, partial, basis });
  };
  switch (e.expectation_type) {
    case 'expect_column_to_exist':
      try {
        await ex.query(`SELECT ${c} FROM ${t} WHERE 1 = 0`, []);
        return { success: true, observed_value: true };
      } catch {
        return { success: false, observed_value: false };
      }
    case 'expect_table_columns_to_match_set': {
      const rows = await ex.query(`SELECT * FROM ${t} LIMIT 1`, []);
      return evaluateRows(e, rows);
    }
    case 'expect_column_values_to_not_be_null': {
      const extra = e.meta.missingValues ?? [];
      const cond = extra.length ? `(${c} IS NULL OR ${text(c)} IN (${extra.map((v) => p(String(v))).join(', ')}))` : `${c} IS NULL`;
      return counted(cond, 'all');
    }
    case 'expect_column_values_to_be_in_set': {
      const set = ((e.kwargs['value_set'] as unknown[]) ?? []).map((v) => p(String(v)));
      return counted(set.length ? `${c} IS NOT NULL AND ${text(c)} NOT IN (${set.join(', ')})` : `${c} IS NOT NULL`, 'nonmissing');
    }
    case 'expect_column_values_to_match_regex': {
      const re = p(String(e.kwargs['regex']));
      return counted(pg ? `${c} IS NOT NULL AND ${text(c)} !~ ${re}` : `${c} IS NOT NULL AND ${text(c)} NOT REGEXP ${re}`, 'nonmissing');
    }
    case 'expect_column_values_to_be_between': {
      const parts: string[] = [];
      if (e.kwargs['min_value'] != null) parts.push(`${c} < ${p(e.kwargs['min_value'])}`);
      if (e.kwargs['max_value'] != null) parts.push(`${c} > ${p(e.kwargs['max_value'])}`);
      return counted(parts.length ? `${c} IS NOT NULL AND (${parts.join(' OR ')})` : '1 = 0', 'nonmissing');
    }
    case 'expect_column_values_to_be_unique': {
      const row = await one(`SELECT COUNT(*) AS n, COUNT(${c}) AS nn, (SELECT COALESCE(SUM(k), 0) FROM (SELECT COUNT(*) AS k FROM ${t} WHERE ${c} IS NOT NULL GROUP BY ${c} HAVING COUNT(*) > 1) d) AS u FROM ${t}`);
      const unexpected = asNumber(row['u'] ?? 0);
      const partial = unexpected > 0 ? (await ex.query(`SELECT ${c} AS v FROM ${t} WHERE ${c} IS NOT NULL GROUP BY ${c} HAVING COUNT(*) > 1 LIMIT ${PARTIAL}`, [])).map((r) => r['v']) : [];
      const n = asNumber(row['n'] ?? 0);
      return decide(e, { element: n, missing: n - asNumber(row['nn'] ?? 0), unexpected, partial, basis: 'nonmissing' });
    }
    case 'expect_compound_columns_to_be_unique': {
      const cols = (e.kwargs['column_list'] as string[]).map(q).join(', ');
      const row = await one(`SELECT COUNT(*) AS n, (SELECT COALESCE(SUM(k), 0) FROM (SELECT COUNT(*) AS k FROM ${t} GROUP BY ${cols} HAVING COUNT(*) > 1) d) AS u FROM ${t}`);
      return decide(e, { element: asNumber(row['n'] ?? 0), missing: 0, unexpected: asNumber(row['u'] ?? 0), partial: [], basis: 'all' });
    }
    case 'expect_table_row_count_to_be_between': {
      const n = asNumber((await one(`SELECT COUNT(*) AS n FROM ${t}`))['n'] ?? 0);
      return { success: rowCountOk(e, n), observed_value: n };
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

/**
 * Runs every expectation of a contract as one checkpoint. One failing or erroring expectation
 * never stops the others: an error becomes `exception_info` and `success: false`.
 */
export async function runCheckpoint(contract: DataContract, executor: CheckpointExecutor, options: { runId?: string; sampleLimit?: number } = {}): Promise<CheckpointResult> {
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
  const results: ExpectationValidationResult[] = [];
  for (const e of expectations) {
    const { threshold: _t, query: _q, missingValues: _m, ...meta } = e.meta;
    const config = { expectation_type: e.expectation_type, kwargs: e.kwargs, meta };
    try {
      const r = executor.kind === 'sql' ? await evaluateSql(e, executor) : evaluateRows(e, await sampleOf(e.meta.dataset));
      const { success, ...result } = r;
      results.push({ expectation_config: config, success, result, exception_info: { raised_exception: false, exception_message: null } });
    } catch (err) {
      results.push({ expectation_config: config, success: false, result: {}, exception_info: { raised_exception: true, exception_message: (err as Error).message } });
    }
  }
  const ok = results.filter((r) => r.success).length;
  return {
    success: ok === results.length,
    statistics: {
      evaluated_expectations: results.length,
      successful_expectations: ok,
      unsuccessful_expectations: results.length - ok,
      success_percent: results.length ? Math.round((ok / results.length) * 10_000) / 100 : null,
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

/** A failed checkpoint is V2; V3 when a failed expectation touches a PII or regulated field. */
export function checkpointSeverity(result: Pick<CheckpointResult, 'success' | 'results'>, _contract?: DataContract): 'V2' | 'V3' | null {
  if (result.success) return null;
  return result.results.some((r) => !r.success && r.expectation_config.meta.pii) ? 'V3' : 'V2';
}
