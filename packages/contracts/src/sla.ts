import { validationError, type FieldIssue } from '@preflight/core';
import { columnName, datasetName, isPii, type DataContract } from './contract.js';
import type { Expectation } from './expectations.js';

/**
 * ODCS `slaProperties` a preflight can check against the source: `freshness` (the newest row of
 * `element` is younger than the value) and `retention` (the oldest row is younger than the value:
 * nothing is kept longer than promised). Both as datacontract-cli 1.2.8 reads them: `element` is
 * `object.property` by logical names, `unit` defaults to days, a string value may be an ISO-8601
 * duration, and the age is measured from now with naive timestamps taken as UTC.
 */
export const SLA_EXPECTATIONS = { freshness: 'expect_column_max_age_to_be_less_than', retention: 'expect_column_min_age_to_be_less_than' } as const;

// Freshness knows minutes as `m`; retention reads `m` as months (datacontract-cli does the same).
const FRESHNESS_UNITS: Array<[string[], number]> = [
  [['d', 'day', 'days'], 86_400],
  [['h', 'hr', 'hour', 'hours'], 3_600],
  [['m', 'min', 'minute', 'minutes'], 60],
];
const RETENTION_UNITS: Array<[string[], number]> = [
  [['y', 'yr', 'year', 'years'], 365 * 86_400],
  [['m', 'mo', 'month', 'months'], 30 * 86_400],
  [['d', 'day', 'days'], 86_400],
  [['h', 'hr', 'hour', 'hours'], 3_600],
  [['min', 'minute', 'minutes'], 60],
  [['s', 'sec', 'second', 'seconds'], 1],
];

const ISO_DURATION = /^P(?=\d|T\d)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const ISO_PARTS = [365 * 86_400, 30 * 86_400, 7 * 86_400, 86_400, 3_600, 60, 1];

/** An ISO-8601 duration (`P30D`, `PT12H`, `P1Y2M`) in seconds, months as 30 days and years as 365. */
export function isoDurationSeconds(text: string): number | null {
  const m = ISO_DURATION.exec(text.trim().toUpperCase());
  if (!m) return null;
  return Math.round(m.slice(1).reduce((sum, part, i) => sum + (part ? Number(part) * ISO_PARTS[i]! : 0), 0));
}

/** The threshold in seconds of a freshness or retention SLA, or null when it cannot be read. */
export function slaSeconds(property: 'freshness' | 'retention', value: unknown, unit: string | undefined): number | null {
  let n: number;
  if (typeof value === 'string') {
    if (!/^-?\d+$/.test(value.trim())) return isoDurationSeconds(value);
    n = Number(value.trim());
  } else if (typeof value === 'number' && Number.isFinite(value)) n = Math.trunc(value);
  else return null;
  const u = (unit ?? 'd').trim().toLowerCase() || 'd';
  const factor = (property === 'freshness' ? FRESHNESS_UNITS : RETENTION_UNITS).find(([names]) => names.includes(u))?.[1];
  return factor === undefined ? null : n * factor;
}

/**
 * One expectation per freshness or retention SLA. What datacontract-cli skips silently (an element
 * that names no property, a value it cannot read) is a contract error here, named by its path:
 * a promise the preflight cannot check should not pass unnoticed.
 */
export function slaExpectations(contract: DataContract): Expectation[] {
  const out: Expectation[] = [];
  const issues: FieldIssue[] = [];
  (contract.slaProperties ?? []).forEach((sla, i) => {
    const property = sla.property?.trim().toLowerCase();
    if (property !== 'freshness' && property !== 'retention') return;
    const at = `slaProperties[${i}]`;
    const parts = typeof sla.element === 'string' ? sla.element.trim().split('.') : [];
    const object = parts.length === 2 ? contract.schema.find((o) => o.name === parts[0]) : undefined;
    const prop = object?.properties.find((p) => p.name === parts[1]);
    if (!object || !prop) {
      issues.push({ field: `${at}.element`, message: `${property} needs element: object.property naming a property of this contract`, value: sla.element });
      return;
    }
    const seconds = slaSeconds(property, sla.value, sla.unit);
    if (seconds === null || seconds <= 0) {
      const units = (property === 'freshness' ? FRESHNESS_UNITS : RETENTION_UNITS).map(([names]) => names[0]).join(', ');
      issues.push({ field: `${at}.value`, message: `${property} must be a positive number with a unit (${units}) or an ISO-8601 duration such as P30D`, value: sla.unit ? `${String(sla.value)} ${sla.unit}` : sla.value });
      return;
    }
    const column = columnName(prop);
    out.push({
      expectation_type: SLA_EXPECTATIONS[property],
      kwargs: { column, max_age_seconds: seconds },
      meta: { dataset: datasetName(object), column, pii: isPii(prop), source: at, severity: 'error', clause: property, ...(sla.id ? { ruleId: String(sla.id) } : {}) },
    });
  });
  if (issues.length) throw validationError(issues);
  return out;
}

/** A timestamp as the source gave it, as epoch milliseconds; a text without an offset is UTC. */
export function timestampMs(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (typeof v !== 'string') return null;
  const s = v.trim();
  const naive = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(s);
  const ms = Date.parse(naive ? `${s.replace(' ', 'T')}${s.length === 10 ? 'T00:00:00' : ''}Z` : s);
  return Number.isNaN(ms) ? null : ms;
}
