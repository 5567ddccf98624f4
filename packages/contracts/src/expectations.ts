import { parse } from 'yaml';
import { validationError } from '@preflight/core';
import { slaExpectations } from './sla.js';
import { columnName, customProperty, datasetName, isPii, type ContractProperty, type DataContract, type QualityRule, type Relationship } from './contract.js';

/** The contract clause an expectation checks (datacontract-cli names its checks the same way). */
export type ContractClause =
  | 'exists'
  | 'required'
  | 'primaryKey'
  | 'unique'
  | 'minimum'
  | 'maximum'
  | 'exclusiveMinimum'
  | 'exclusiveMaximum'
  | 'minLength'
  | 'maxLength'
  | 'pattern'
  | 'enum'
  | 'relationship'
  | 'nullValues'
  | 'missingValues'
  | 'invalidValues'
  | 'duplicateValues'
  | 'rowCount'
  | 'freshness'
  | 'retention'
  | 'sql'
  | 'custom'
  | 'unexpectedFields';

/** One expectation in Great Expectations' shape, plus where it came from. */
export interface Expectation {
  expectation_type: string;
  kwargs: Record<string, unknown>;
  meta: {
    dataset: string;
    column?: string;
    pii: boolean;
    /** Where in the contract the expectation was declared, e.g. `schema[0].properties[1].quality[0]`. */
    source: string;
    clause: ContractClause;
    /** The rule's `id`, when the contract gives one. */
    ruleId?: string;
    /** ODCS `severity`: a non-blocking one (info, warning, low…) makes a failure a warning. */
    severity: 'error' | 'warning';
    /** The rule's ODCS `severity` as written (`severity` is what it means here). */
    ruleSeverity?: string;
    /** The ODCS threshold, evaluated on the ODCS metric (counted the ODCS way, not GE's). */
    threshold?: Threshold;
    /** For sql rules: the query, with ${object} / ${property} placeholders. */
    query?: string;
    /** For missingValues: values that count as missing besides null. */
    missingValues?: unknown[];
    /** For relationships: the referenced dataset and columns. */
    references?: { dataset: string; columns: string[] };
  };
}

export interface Threshold {
  op: 'mustBe' | 'mustNotBe' | 'mustBeGreaterThan' | 'mustBeGreaterOrEqualTo' | 'mustBeLessThan' | 'mustBeLessOrEqualTo' | 'mustBeBetween' | 'mustNotBeBetween';
  value: unknown;
  unit: 'rows' | 'percent';
}

export const SUPPORTED_EXPECTATIONS = [
  'expect_column_to_exist',
  'expect_table_columns_to_match_set',
  'expect_column_values_to_not_be_null',
  'expect_column_values_to_be_unique',
  'expect_compound_columns_to_be_unique',
  'expect_column_values_to_be_in_set',
  'expect_column_values_to_match_regex',
  'expect_column_values_to_be_between',
  'expect_column_value_lengths_to_be_between',
  'expect_table_row_count_to_be_between',
  'expect_query_result_to_meet_threshold',
  'expect_foreign_key_values_to_exist',
] as const;

export function thresholdOf(rule: QualityRule): Threshold | undefined {
  for (const op of ['mustBe', 'mustNotBe', 'mustBeGreaterThan', 'mustBeGreaterOrEqualTo', 'mustBeLessThan', 'mustBeLessOrEqualTo', 'mustBeBetween', 'mustNotBeBetween'] as const) {
    if (rule[op] !== undefined) return { op, value: rule[op], unit: rule.unit ?? 'rows' };
  }
  return undefined;
}

export function meetsThreshold(t: Threshold, metric: number): boolean {
  const v = t.value;
  switch (t.op) {
    case 'mustBe':
      return metric === Number(v);
    case 'mustNotBe':
      return metric !== Number(v);
    case 'mustBeGreaterThan':
      return metric > Number(v);
    case 'mustBeGreaterOrEqualTo':
      return metric >= Number(v);
    case 'mustBeLessThan':
      return metric < Number(v);
    case 'mustBeLessOrEqualTo':
      return metric <= Number(v);
    case 'mustBeBetween': {
      const [lo, hi] = v as [number, number];
      return metric >= lo && metric <= hi;
    }
    case 'mustNotBeBetween': {
      const [lo, hi] = v as [number, number];
      return metric < lo || metric > hi;
    }
  }
}

/** ODCS severities that do not block: datacontract-cli reports these as a warning, not a failure. */
const NON_BLOCKING = new Set(['info', 'warning', 'warn', 'low', 'minor', 'trivial']);
export const severityOf = (rule: QualityRule | undefined): 'error' | 'warning' => (NON_BLOCKING.has((rule?.severity ?? '').trim().toLowerCase()) ? 'warning' : 'error');

/** GE's kwargs for a row count, for readers of the result; the ODCS threshold decides success. */
function rowCountKwargs(t: Threshold): Record<string, unknown> {
  const v = t.value;
  switch (t.op) {
    case 'mustBe':
      return { min_value: Number(v), max_value: Number(v) };
    case 'mustBeGreaterThan':
      return { min_value: Number(v) + 1, max_value: null };
    case 'mustBeGreaterOrEqualTo':
      return { min_value: Number(v), max_value: null };
    case 'mustBeLessThan':
      return { min_value: null, max_value: Number(v) - 1 };
    case 'mustBeLessOrEqualTo':
      return { min_value: null, max_value: Number(v) };
    case 'mustBeBetween':
      return { min_value: (v as number[])[0], max_value: (v as number[])[1] };
    default:
      return { min_value: null, max_value: null };
  }
}

/**
 * A `type: sql` rule runs on the tenant's database: only a single read statement is accepted
 * (the connector also runs it in a read-only transaction with a statement timeout).
 */
const WRITES = /\b(insert|update|delete|merge|upsert|create|drop|alter|truncate|grant|revoke|copy|call|vacuum|reindex|lock|refresh)\b/i;
export function readOnlyQueryProblem(query: string): string | null {
  const body = query.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/'(?:[^']|'')*'/g, "''").trim().replace(/;\s*$/, '');
  if (body.includes(';')) return 'must be a single statement';
  if (!/^(select|with|values|table)\b/i.test(body)) return 'must be a read-only query (SELECT or WITH)';
  if (/\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b/i.test(body)) return 'must not lock rows (FOR UPDATE/SHARE)';
  const write = WRITES.exec(body);
  if (write) return `must not write: it contains ${write[1]!.toUpperCase()}`;
  if (/\binto\b/i.test(body)) return 'must not write: it contains INTO';
  return null;
}

function customImplementation(rule: QualityRule, at: string): { type: string; kwargs: Record<string, unknown> } {
  let impl = rule.implementation;
  if (typeof impl === 'string') {
    try {
      impl = parse(impl);
    } catch (e) {
      throw validationError([{ field: `${at}.implementation`, message: `not valid YAML/JSON: ${(e as Error).message}` }]);
    }
  }
  const o = (impl ?? {}) as Record<string, unknown>;
  const type = (o['expectation_type'] ?? o['type']);
  if (typeof type !== 'string' || !(SUPPORTED_EXPECTATIONS as readonly string[]).includes(type)) {
    throw validationError([{ field: `${at}.implementation`, message: `unsupported expectation type; supported: ${SUPPORTED_EXPECTATIONS.join(', ')}`, value: type }]);
  }
  return { type, kwargs: (o['kwargs'] ?? {}) as Record<string, unknown> };
}

const enumValues = (p: ContractProperty): unknown[] | undefined => {
  const raw = p.enum ?? (p.logicalTypeOptions?.['enum'] as unknown[] | undefined);
  if (!Array.isArray(raw)) return undefined;
  return raw.map((v) => (v && typeof v === 'object' && 'value' in v ? v.value : v)).filter((v) => v !== null);
};

/** Compiles a contract's schema and quality rules into the expectations of one checkpoint. */
export function compileExpectations(contract: DataContract): Expectation[] {
  const out: Expectation[] = [];
  const seen = new Set<string>();
  const add = (e: Expectation): void => {
    const key = `${e.meta.dataset}|${e.expectation_type}|${JSON.stringify(e.kwargs)}|${JSON.stringify(e.meta.threshold ?? null)}|${e.meta.severity}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  const byObjectName = new Map(contract.schema.map((o) => [o.name, o] as const));
  contract.schema.forEach((o, i) => {
    const dataset = datasetName(o);
    const at = `schema[${i}]`;
    const byName = new Map(o.properties.map((p) => [columnName(p), p] as const));
    const byLogical = new Map(o.properties.map((p) => [p.name, p] as const));
    const piiOf = (col: string | undefined): boolean => {
      const p = col ? byName.get(col) : undefined;
      return p ? isPii(p) : false;
    };
    const keys = o.properties.filter((p) => p.primaryKey).sort((a, b) => (a.primaryKeyPosition ?? 0) - (b.primaryKeyPosition ?? 0));
    const composite = keys.length > 1;

    /** A library, sql or custom rule, at property level (`column`) or object level. */
    const rule = (r: QualityRule, rat: string, column: string | undefined): void => {
      const type = r.type ?? 'library';
      const t = thresholdOf(r);
      const base = { dataset, ...(column !== undefined ? { column } : {}), pii: piiOf(column), source: rat, severity: severityOf(r), ...(r.severity !== undefined ? { ruleSeverity: String(r.severity) } : {}), ...(r.id ? { ruleId: String(r.id) } : {}) };
      if (type === 'library') {
        const metric = r.metric ?? r.rule;
        if (!t) return;
        const meta = { ...base, threshold: t };
        if (metric === 'rowCount') add({ expectation_type: 'expect_table_row_count_to_be_between', kwargs: rowCountKwargs(t), meta: { ...meta, clause: 'rowCount', pii: false } });
        if (metric === 'nullValues' && column) add({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column }, meta: { ...meta, clause: 'nullValues' } });
        if (metric === 'missingValues' && column) {
          const missing = (r.arguments?.['missingValues'] as unknown[] | undefined) ?? [null, ''];
          add({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column }, meta: { ...meta, clause: 'missingValues', missingValues: missing.filter((x) => x !== null) } });
        }
        if (metric === 'invalidValues' && column) {
          const valid = r.arguments?.['validValues'];
          const pattern = r.arguments?.['pattern'];
          if (Array.isArray(valid)) add({ expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column, value_set: valid.filter((v) => v !== null) }, meta: { ...meta, clause: 'invalidValues' } });
          else if (typeof pattern === 'string') add({ expectation_type: 'expect_column_values_to_match_regex', kwargs: { column, regex: pattern }, meta: { ...meta, clause: 'invalidValues' } });
          else throw validationError([{ field: `${rat}.arguments`, message: 'invalidValues needs validValues (a list) or pattern (a regex)' }]);
        }
        if (metric === 'duplicateValues') {
          const cols = column ? [column] : ((r.arguments?.['properties'] as string[] | undefined) ?? []).map((n) => (byLogical.get(n) ? columnName(byLogical.get(n)!) : n));
          if (cols.length === 1) add({ expectation_type: 'expect_column_values_to_be_unique', kwargs: { column: cols[0] }, meta: { ...meta, column: cols[0]!, pii: piiOf(cols[0]), clause: 'duplicateValues' } });
          else if (cols.length > 1) add({ expectation_type: 'expect_compound_columns_to_be_unique', kwargs: { column_list: cols }, meta: { ...meta, pii: cols.some(piiOf), clause: 'duplicateValues' } });
          else throw validationError([{ field: `${rat}.arguments.properties`, message: 'duplicateValues at object level needs the list of properties' }]);
        }
      } else if (type === 'sql' && t && r.query) {
        const problem = readOnlyQueryProblem(r.query);
        if (problem) throw validationError([{ field: `${rat}.query`, message: `sql rule ${r.id ?? r.name ?? rat} ${problem}`, value: r.query }]);
        add({ expectation_type: 'expect_query_result_to_meet_threshold', kwargs: { query: r.query, [t.op]: t.value }, meta: { ...base, clause: 'sql', threshold: t, query: r.query } });
      } else if (type === 'custom') {
        const impl = customImplementation(r, rat);
        const col = (impl.kwargs['column'] as string | undefined) ?? column;
        add({ expectation_type: impl.type, kwargs: column ? { column, ...impl.kwargs } : impl.kwargs, meta: { ...base, ...(col ? { column: col } : {}), pii: piiOf(col), clause: 'custom' } });
      }
    };

    o.properties.forEach((p: ContractProperty, j) => {
      const column = columnName(p);
      const pat = `${at}.properties[${j}]`;
      const meta = { dataset, column, pii: isPii(p), source: pat, severity: 'error' as const };
      add({ expectation_type: 'expect_column_to_exist', kwargs: { column }, meta: { ...meta, clause: 'exists' } });
      if (p.required) add({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column }, meta: { ...meta, clause: 'required' } });
      if (p.unique) add({ expectation_type: 'expect_column_values_to_be_unique', kwargs: { column }, meta: { ...meta, clause: 'unique' } });
      if (p.primaryKey) {
        add({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column }, meta: { ...meta, clause: 'primaryKey' } });
        // A composite key is unique as a tuple, not column by column.
        if (!composite) add({ expectation_type: 'expect_column_values_to_be_unique', kwargs: { column }, meta: { ...meta, clause: 'primaryKey' } });
      }
      const opt = p.logicalTypeOptions ?? {};
      const num = (k: string): number | undefined => {
        const v = opt[k];
        return typeof v === 'number' ? v : undefined;
      };
      const between = (clause: ContractClause, kwargs: Record<string, unknown>, type = 'expect_column_values_to_be_between'): void => add({ expectation_type: type, kwargs: { column, ...kwargs }, meta: { ...meta, source: `${pat}.logicalTypeOptions.${clause}`, clause } });
      if (num('minimum') !== undefined) between('minimum', { min_value: num('minimum') });
      if (num('maximum') !== undefined) between('maximum', { max_value: num('maximum') });
      if (num('exclusiveMinimum') !== undefined) between('exclusiveMinimum', { min_value: num('exclusiveMinimum'), strict_min: true });
      if (num('exclusiveMaximum') !== undefined) between('exclusiveMaximum', { max_value: num('exclusiveMaximum'), strict_max: true });
      if (num('minLength') !== undefined) between('minLength', { min_value: num('minLength') }, 'expect_column_value_lengths_to_be_between');
      if (num('maxLength') !== undefined) between('maxLength', { max_value: num('maxLength') }, 'expect_column_value_lengths_to_be_between');
      if (typeof opt['pattern'] === 'string') add({ expectation_type: 'expect_column_values_to_match_regex', kwargs: { column, regex: opt['pattern'] }, meta: { ...meta, source: `${pat}.logicalTypeOptions.pattern`, clause: 'pattern' } });
      const values = enumValues(p);
      if (values) add({ expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column, value_set: values }, meta: { ...meta, source: `${pat}.enum`, clause: 'enum' } });
      (p.relationships ?? []).forEach((rel, k) => relationship(rel, `${pat}.relationships[${k}]`, [p.name]));
      (p.quality ?? []).forEach((r, k) => rule(r, `${pat}.quality[${k}]`, column));
    });
    if (composite) {
      const cols = keys.map(columnName);
      add({ expectation_type: 'expect_compound_columns_to_be_unique', kwargs: { column_list: cols }, meta: { dataset, pii: cols.some(piiOf), source: at, severity: 'error', clause: 'primaryKey' } });
    }
    (o.relationships ?? []).forEach((rel, k) => relationship(rel, `${at}.relationships[${k}]`));
    (o.quality ?? []).forEach((r, k) => rule(r, `${at}.quality[${k}]`, undefined));
    if (customProperty(contract, 'unexpectedFields') === 'fail') {
      add({ expectation_type: 'expect_table_columns_to_match_set', kwargs: { column_set: [...byName.keys()], exact_match: true }, meta: { dataset, pii: false, source: at, severity: 'error', clause: 'unexpectedFields' } });
    }

    /** A foreign key: every non-null key here exists in the referenced object (`to: object.property`). */
    function relationship(rel: Relationship, rat: string, from?: string[]): void {
      if ((rel.type ?? 'foreignKey') !== 'foreignKey') return;
      const sources = (from ?? (Array.isArray(rel.from) ? rel.from : [rel.from ?? ''])).map((s) => (s.startsWith(`${o.name}.`) ? s.slice(o.name.length + 1) : s));
      const targets = Array.isArray(rel.to) ? rel.to : [rel.to ?? ''];
      const parts = targets.map((t) => t.split('.'));
      const target = parts[0]?.length === 2 ? byObjectName.get(parts[0][0]!) : undefined;
      const cols = sources.map((s) => byLogical.get(s));
      const refs = parts.map((pp) => (target && pp.length === 2 && pp[0] === target.name ? target.properties.find((q) => q.name === pp[1]) : undefined));
      if (!target || cols.some((c) => !c) || refs.some((r) => !r) || cols.length !== refs.length) {
        throw validationError([{ field: rat, message: `relationship ${sources.join(', ')} -> ${targets.join(', ')} does not name properties of this contract (to: object.property)`, value: rel.to }]);
      }
      const columns = cols.map((c) => columnName(c!));
      add({
        expectation_type: 'expect_foreign_key_values_to_exist',
        kwargs: { column_list: columns, referenced_dataset: datasetName(target), referenced_columns: refs.map((r) => columnName(r!)) },
        meta: { dataset, ...(columns.length === 1 ? { column: columns[0]! } : {}), pii: columns.some(piiOf), source: rat, severity: 'error', clause: 'relationship', references: { dataset: datasetName(target), columns: refs.map((r) => columnName(r!)) } },
      });
    }
  });
  for (const e of slaExpectations(contract)) add(e);
  return out;
}
