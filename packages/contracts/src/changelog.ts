import { columnName, datasetName, isPii, type ContractObject, type ContractProperty, type DataContract, type QualityRule } from './contract.js';

/**
 * What changed between two versions of a contract, each change classified the way a consumer of
 * the dataset feels it: breaking when something the source promised is taken away or a promise
 * the source must keep gets stricter (a removed or retyped field, a field that became required,
 * a tightened or new quality rule, a field that became PII), non-breaking when something is added
 * optionally or loosened.
 */
export interface ContractChange {
  /** `dataset` or `dataset.field`, or `contract` for the contract's own attributes. */
  path: string;
  kind:
    | 'DATASET_ADDED'
    | 'DATASET_REMOVED'
    | 'FIELD_ADDED'
    | 'FIELD_REMOVED'
    | 'TYPE_CHANGED'
    | 'REQUIRED_CHANGED'
    | 'KEY_CHANGED'
    | 'CLASSIFICATION_CHANGED'
    | 'QUALITY_ADDED'
    | 'QUALITY_REMOVED'
    | 'QUALITY_CHANGED'
    | 'VERSION_CHANGED';
  breaking: boolean;
  detail: string;
}

export interface ContractChangelog {
  from: string;
  to: string;
  breaking: boolean;
  changes: ContractChange[];
}

const ruleName = (r: QualityRule): string => r.metric ?? r.rule ?? r.type ?? 'rule';
// A rule's identity: its ODCS `id` when it has one, else what it measures.
const ruleKey = (r: QualityRule & { id?: string }): string => r.id ?? `${ruleName(r)}${r.type === 'sql' ? `:${r.query ?? ''}` : ''}`;
const typeOf = (p: ContractProperty): string => [p.logicalType, p.physicalType].filter(Boolean).join('/') || 'unspecified';

type Bound = { lo: number; hi: number };

/** The accepted interval of a rule's measured value, for comparing strictness. */
function accepted(r: QualityRule): Bound | null {
  const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  if (n(r.mustBe) !== null) return { lo: n(r.mustBe)!, hi: n(r.mustBe)! };
  if (r.mustBeBetween) return { lo: r.mustBeBetween[0], hi: r.mustBeBetween[1] };
  if (r.mustBeLessThan !== undefined) return { lo: -Infinity, hi: r.mustBeLessThan - Number.EPSILON };
  if (r.mustBeLessOrEqualTo !== undefined) return { lo: -Infinity, hi: r.mustBeLessOrEqualTo };
  if (r.mustBeGreaterThan !== undefined) return { lo: r.mustBeGreaterThan + Number.EPSILON, hi: Infinity };
  if (r.mustBeGreaterOrEqualTo !== undefined) return { lo: r.mustBeGreaterOrEqualTo, hi: Infinity };
  return null;
}

/** A rule is tightened when the values it accepts shrink (or can no longer be compared: be safe). */
function tightened(before: QualityRule, after: QualityRule): boolean {
  if ((before.unit ?? 'rows') !== (after.unit ?? 'rows')) return true;
  // Other valid values, another pattern or query: whether that accepts less cannot be told, so it counts as tighter.
  if (JSON.stringify(before.arguments ?? null) !== JSON.stringify(after.arguments ?? null) || before.query !== after.query) return true;
  const a = accepted(before);
  const b = accepted(after);
  if (!a || !b) return JSON.stringify(before) !== JSON.stringify(after);
  return b.lo > a.lo || b.hi < a.hi;
}

function diffRules(path: string, before: QualityRule[] = [], after: QualityRule[] = []): ContractChange[] {
  const out: ContractChange[] = [];
  const old = new Map(before.map((r) => [ruleKey(r), r]));
  const now = new Map(after.map((r) => [ruleKey(r), r]));
  for (const [k, r] of now) {
    const was = old.get(k);
    if (!was) out.push({ path, kind: 'QUALITY_ADDED', breaking: true, detail: `quality rule ${ruleName(r)} added: the source must now meet it` });
    else if (JSON.stringify(was) !== JSON.stringify(r)) {
      const tighter = tightened(was, r);
      out.push({ path, kind: 'QUALITY_CHANGED', breaking: tighter, detail: `quality rule ${ruleName(r)} ${tighter ? 'tightened' : 'loosened'}` });
    }
  }
  for (const [k, r] of old) if (!now.has(k)) out.push({ path, kind: 'QUALITY_REMOVED', breaking: false, detail: `quality rule ${ruleName(r)} removed` });
  return out;
}

function diffField(path: string, a: ContractProperty, b: ContractProperty): ContractChange[] {
  const out: ContractChange[] = [];
  if (typeOf(a) !== typeOf(b)) out.push({ path, kind: 'TYPE_CHANGED', breaking: true, detail: `type ${typeOf(a)} → ${typeOf(b)}` });
  if (!!a.required !== !!b.required) out.push({ path, kind: 'REQUIRED_CHANGED', breaking: !!b.required, detail: b.required ? 'became required' : 'became optional' });
  // A primary key promises uniqueness and presence; unique promises uniqueness only.
  const rank = (p: ContractProperty): number => (p.primaryKey ? 2 : p.unique ? 1 : 0);
  const label = ['none', 'unique', 'primary key'];
  if (rank(a) !== rank(b)) out.push({ path, kind: 'KEY_CHANGED', breaking: rank(b) > rank(a), detail: `key ${label[rank(a)]!} → ${label[rank(b)]!}` });
  if (isPii(a) !== isPii(b) || (a.classification ?? '') !== (b.classification ?? '')) {
    out.push({ path, kind: 'CLASSIFICATION_CHANGED', breaking: isPii(b) && !isPii(a), detail: `classification ${a.classification ?? 'none'} → ${b.classification ?? 'none'}${isPii(b) && !isPii(a) ? ' (now PII)' : ''}` });
  }
  return [...out, ...diffRules(path, a.quality, b.quality)];
}

function diffDataset(a: ContractObject, b: ContractObject): ContractChange[] {
  const ds = datasetName(b);
  const out: ContractChange[] = [];
  const old = new Map(a.properties.map((p) => [columnName(p), p]));
  const now = new Map(b.properties.map((p) => [columnName(p), p]));
  for (const [name, p] of now) {
    const was = old.get(name);
    if (!was) out.push({ path: `${ds}.${name}`, kind: 'FIELD_ADDED', breaking: !!p.required || !!p.primaryKey, detail: p.required || p.primaryKey ? 'required field added: the source must now provide it' : 'optional field added' });
    else out.push(...diffField(`${ds}.${name}`, was, p));
  }
  for (const name of old.keys()) if (!now.has(name)) out.push({ path: `${ds}.${name}`, kind: 'FIELD_REMOVED', breaking: true, detail: 'field removed: consumers reading it lose it' });
  return [...out, ...diffRules(ds, a.quality, b.quality)];
}

/** Pure: the classified changelog from one contract version to the next. */
export function contractChangelog(before: DataContract, after: DataContract): ContractChangelog {
  const changes: ContractChange[] = [];
  if (before.version !== after.version) changes.push({ path: 'contract', kind: 'VERSION_CHANGED', breaking: false, detail: `version ${before.version} → ${after.version}` });
  const old = new Map(before.schema.map((o) => [datasetName(o), o]));
  const now = new Map(after.schema.map((o) => [datasetName(o), o]));
  for (const [name, o] of now) {
    const was = old.get(name);
    if (!was) changes.push({ path: name, kind: 'DATASET_ADDED', breaking: false, detail: 'dataset added' });
    else changes.push(...diffDataset(was, o));
  }
  for (const name of old.keys()) if (!now.has(name)) changes.push({ path: name, kind: 'DATASET_REMOVED', breaking: true, detail: 'dataset removed' });
  return { from: before.version, to: after.version, breaking: changes.some((c) => c.breaking), changes };
}
