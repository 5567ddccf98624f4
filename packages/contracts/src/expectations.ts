import { parse } from 'yaml';
import { validationError } from '@preflight/core';
import { columnName, customProperty, datasetName, isPii, type ContractProperty, type DataContract, type QualityRule } from './contract.js';

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
    /** A contract threshold GE's `mostly` cannot express; evaluated on the metric instead. */
    threshold?: Threshold;
    /** For sql rules: the query, with ${object} / ${property} placeholders. */
    query?: string;
    /** For missingValues: values that count as missing besides null. */
    missingValues?: unknown[];
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
  'expect_table_row_count_to_be_between',
  'expect_query_result_to_meet_threshold',
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

/**
 * "At most X% unexpected" is GE's `mostly`; "exactly 0" is GE's default. Anything else (row
 * counts, lower bounds) stays a threshold on the metric.
 */
function mostlyOrThreshold(t: Threshold | undefined): { kwargs: Record<string, unknown>; threshold?: Threshold } {
  if (!t) return { kwargs: {} };
  if (t.op === 'mustBe' && Number(t.value) === 0) return { kwargs: {} };
  if (t.unit === 'percent' && (t.op === 'mustBeLessThan' || t.op === 'mustBeLessOrEqualTo')) {
    return { kwargs: { mostly: Math.round((1 - Number(t.value) / 100) * 10_000) / 10_000 } };
  }
  return { kwargs: {}, threshold: t };
}

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

/** Compiles a contract's schema and quality rules into the expectations of one checkpoint. */
export function compileExpectations(contract: DataContract): Expectation[] {
  const out: Expectation[] = [];
  const seen = new Set<string>();
  const add = (e: Expectation): void => {
    const key = `${e.meta.dataset}|${e.expectation_type}|${JSON.stringify(e.kwargs)}|${JSON.stringify(e.meta.threshold ?? null)}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  contract.schema.forEach((o, i) => {
    const dataset = datasetName(o);
    const at = `schema[${i}]`;
    const byName = new Map(o.properties.map((p) => [columnName(p), p] as const));
    const piiOf = (col: string | undefined): boolean => {
      const p = col ? byName.get(col) : undefined;
      return p ? isPii(p) : false;
    };
    o.properties.forEach((p: ContractProperty, j) => {
      const column = columnName(p);
      const pat = `${at}.properties[${j}]`;
      const meta = { dataset, column, pii: isPii(p), source: pat };
      add({ expectation_type: 'expect_column_to_exist', kwargs: { column }, meta });
      if (p.required || p.primaryKey) add({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column }, meta });
      if (p.unique || p.primaryKey) add({ expectation_type: 'expect_column_values_to_be_unique', kwargs: { column }, meta });
      (p.quality ?? []).forEach((rule, k) => {
        const rat = `${pat}.quality[${k}]`;
        const rmeta = { ...meta, source: rat };
        const type = rule.type ?? 'library';
        const t = thresholdOf(rule);
        if (type === 'library') {
          const metric = rule.metric ?? rule.rule;
          const m = mostlyOrThreshold(t);
          const withThreshold = { ...rmeta, ...(m.threshold ? { threshold: m.threshold } : {}) };
          if (metric === 'nullValues') add({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column, ...m.kwargs }, meta: withThreshold });
          if (metric === 'missingValues') {
            const missing = (rule.arguments?.['missingValues'] as unknown[] | undefined) ?? [null, ''];
            add({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column, ...m.kwargs }, meta: { ...withThreshold, missingValues: missing.filter((x) => x !== null) } });
          }
          if (metric === 'invalidValues') {
            const valid = rule.arguments?.['validValues'];
            const pattern = rule.arguments?.['pattern'];
            if (Array.isArray(valid)) add({ expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column, value_set: valid, ...m.kwargs }, meta: withThreshold });
            if (typeof pattern === 'string') add({ expectation_type: 'expect_column_values_to_match_regex', kwargs: { column, regex: pattern, ...m.kwargs }, meta: withThreshold });
            if (!Array.isArray(valid) && typeof pattern !== 'string') throw validationError([{ field: `${rat}.arguments`, message: 'invalidValues needs validValues (a list) or pattern (a regex)' }]);
          }
          if (metric === 'duplicateValues') add({ expectation_type: 'expect_column_values_to_be_unique', kwargs: { column, ...m.kwargs }, meta: withThreshold });
          if (metric === 'rowCount' && t) add({ expectation_type: 'expect_table_row_count_to_be_between', kwargs: rowCountKwargs(t), meta: { dataset, pii: false, source: rat } });
        } else if (type === 'sql' && t && rule.query) {
          add({ expectation_type: 'expect_query_result_to_meet_threshold', kwargs: { query: rule.query, [t.op]: t.value }, meta: { ...rmeta, threshold: t, query: rule.query } });
        } else if (type === 'custom') {
          const impl = customImplementation(rule, rat);
          add({ expectation_type: impl.type, kwargs: { column, ...impl.kwargs }, meta: { ...rmeta, column: (impl.kwargs['column'] as string | undefined) ?? column } });
        }
      });
    });
    (o.quality ?? []).forEach((rule, k) => {
      const rat = `${at}.quality[${k}]`;
      const type = rule.type ?? 'library';
      const t = thresholdOf(rule);
      const meta = { dataset, pii: false, source: rat };
      if (type === 'library') {
        const metric = rule.metric ?? rule.rule;
        if (metric === 'rowCount' && t) add({ expectation_type: 'expect_table_row_count_to_be_between', kwargs: rowCountKwargs(t), meta: { ...meta, ...(t.op === 'mustNotBe' || t.op === 'mustNotBeBetween' ? { threshold: t } : {}) } });
        if (metric === 'duplicateValues') {
          const cols = (rule.arguments?.['properties'] as string[] | undefined) ?? [];
          const m = mostlyOrThreshold(t);
          if (cols.length === 1) add({ expectation_type: 'expect_column_values_to_be_unique', kwargs: { column: cols[0], ...m.kwargs }, meta: { ...meta, column: cols[0]!, pii: piiOf(cols[0]), ...(m.threshold ? { threshold: m.threshold } : {}) } });
          else if (cols.length > 1) add({ expectation_type: 'expect_compound_columns_to_be_unique', kwargs: { column_list: cols, ...m.kwargs }, meta: { ...meta, pii: cols.some(piiOf), ...(m.threshold ? { threshold: m.threshold } : {}) } });
          else throw validationError([{ field: `${rat}.arguments.properties`, message: 'duplicateValues at object level needs the list of properties' }]);
        }
      } else if (type === 'sql' && t && rule.query) {
        add({ expectation_type: 'expect_query_result_to_meet_threshold', kwargs: { query: rule.query, [t.op]: t.value }, meta: { ...meta, threshold: t, query: rule.query } });
      } else if (type === 'custom') {
        const impl = customImplementation(rule, rat);
        const col = impl.kwargs['column'] as string | undefined;
        add({ expectation_type: impl.type, kwargs: impl.kwargs, meta: { ...meta, ...(col ? { column: col } : {}), pii: piiOf(col) } });
      }
    });
    if (customProperty(contract, 'unexpectedFields') === 'fail') {
      add({ expectation_type: 'expect_table_columns_to_match_set', kwargs: { column_set: [...byName.keys()], exact_match: true }, meta: { dataset, pii: false, source: at } });
    }
  });
  return out;
}
