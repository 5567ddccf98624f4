import { invalidRuleSet, invalidSchema } from './errors.js';

/**
 * Confluent's data-contract parts of a schema version: `metadata` (tags per path, properties,
 * sensitive property names) and `ruleSet` (domain, migration and encoding rules). This registry
 * validates, stores, merges and serves them exactly as Confluent's entities do; it never executes
 * a rule — that is the serializers' job in Confluent too.
 */

export interface Metadata {
  tags?: Record<string, string[]>;
  properties?: Record<string, string>;
  sensitive?: string[];
}

export const RULE_KINDS = ['TRANSFORM', 'CONDITION'] as const;
export const RULE_MODES = ['UPGRADE', 'DOWNGRADE', 'UPDOWN', 'WRITE', 'READ', 'WRITEREAD'] as const;
const MIGRATION_MODES = new Set(['UPGRADE', 'DOWNGRADE', 'UPDOWN']);

export interface Rule {
  name: string;
  doc?: string;
  kind: (typeof RULE_KINDS)[number];
  mode: (typeof RULE_MODES)[number];
  type: string;
  tags?: string[];
  params?: Record<string, string>;
  expr?: string;
  onSuccess?: string;
  onFailure?: string;
  disabled?: boolean;
}

export interface RuleSet {
  migrationRules?: Rule[];
  domainRules?: Rule[];
  encodingRules?: Rule[];
}

/** Config-level defaults (applied under what a version says) and overrides (applied over it). */
export interface ContractConfig {
  defaultMetadata?: Metadata;
  overrideMetadata?: Metadata;
  defaultRuleSet?: RuleSet;
  overrideRuleSet?: RuleSet;
}

export const CONTRACT_CONFIG_KEYS = ['defaultMetadata', 'overrideMetadata', 'defaultRuleSet', 'overrideRuleSet'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const sortedUnique = (xs: readonly string[]): string[] => [...new Set(xs)].sort();
const sortedRecord = <T>(o: Record<string, T>): Record<string, T> =>
  Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]!]),
  );

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidSchema(`${field} must be a list of strings, got ${JSON.stringify(v)}`);
  return sortedUnique(v as string[]);
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw invalidSchema(`${field} must be an object of string values, got ${JSON.stringify(v)}`);
  return sortedRecord(v as Record<string, string>);
}

/**
 * `metadata` as Confluent's Metadata entity reads it: absent or null is none; tags are sorted
 * sets per path, properties a sorted map, sensitive a sorted set; empty parts are left out, as
 * Confluent serializes NON_EMPTY. Wrong shapes are 42201 naming the field.
 */
export function parseMetadata(v: unknown, field = 'metadata'): Metadata | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidSchema(`${field} must be an object with tags, properties and sensitive, got ${JSON.stringify(v)}`);
  const out: Metadata = {};
  if (v['tags'] !== undefined && v['tags'] !== null) {
    if (!isObject(v['tags'])) throw invalidSchema(`${field}.tags must be an object of path → list of tags, got ${JSON.stringify(v['tags'])}`);
    const tags = Object.fromEntries(Object.entries(v['tags']).map(([path, list]) => [path, stringList(list, `${field}.tags[${JSON.stringify(path)}]`)]));
    if (Object.keys(tags).length) out.tags = sortedRecord(tags);
  }
  if (v['properties'] !== undefined && v['properties'] !== null) {
    const properties = stringMap(v['properties'], `${field}.properties`);
    if (Object.keys(properties).length) out.properties = properties;
  }
  if (v['sensitive'] !== undefined && v['sensitive'] !== null) {
    const sensitive = stringList(v['sensitive'], `${field}.sensitive`);
    if (sensitive.length) out.sensitive = sensitive;
  }
  return out;
}

const RULE_NAME = /^[\p{L}_][\p{L}\p{N}_-]*$/u;

function parseRule(v: unknown, field: string): Rule {
  if (!isObject(v)) throw invalidRuleSet(`${field} must be an object, got ${JSON.stringify(v)}`);
  const name = v['name'];
  if (typeof name !== 'string' || name === '') throw invalidRuleSet(`${field}: Missing rule name`);
  if (name.length > 64 || !RULE_NAME.test(name)) throw invalidRuleSet(`${field}: Illegal rule name ${JSON.stringify(name)}`);
  if (typeof v['type'] !== 'string' || v['type'] === '') throw invalidRuleSet(`${field}: Missing rule type`);
  const kind = v['kind'] ?? 'TRANSFORM';
  if (!(RULE_KINDS as readonly unknown[]).includes(kind)) throw invalidRuleSet(`${field}.kind must be one of ${RULE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const mode = v['mode'] ?? 'WRITEREAD';
  if (!(RULE_MODES as readonly unknown[]).includes(mode)) throw invalidRuleSet(`${field}.mode must be one of ${RULE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const rule: Rule = { name, kind: kind as Rule['kind'], mode: mode as Rule['mode'], type: v['type'] };
  for (const key of ['doc', 'expr', 'onSuccess', 'onFailure'] as const) {
    const s = v[key];
    if (s === undefined || s === null) continue;
    if (typeof s !== 'string') throw invalidRuleSet(`${field}.${key} must be a string, got ${JSON.stringify(s)}`);
    if ((key === 'onSuccess' || key === 'onFailure') && s.includes(',') && mode !== 'WRITEREAD' && mode !== 'UPDOWN') throw invalidRuleSet(`${field}: Multiple actions only valid with WRITEREAD and UPDOWN`);
    if (s !== '') rule[key] = s;
  }
  if (v['tags'] !== undefined && v['tags'] !== null) {
    const tags = stringList(v['tags'], `${field}.tags`);
    if (tags.length) rule.tags = tags;
  }
  if (v['params'] !== undefined && v['params'] !== null) {
    const params = stringMap(v['params'], `${field}.params`);
    if (Object.keys(params).length) rule.params = params;
  }
  if (v['disabled'] !== undefined && v['disabled'] !== null) {
    if (typeof v['disabled'] !== 'boolean') throw invalidRuleSet(`${field}.disabled must be a boolean, got ${JSON.stringify(v['disabled'])}`);
    if (v['disabled']) rule.disabled = true;
  }
  return rule;
}

/**
 * `ruleSet` as Confluent validates it: every rule named (a letter or `_` first), typed, with a
 * known kind and mode; names unique across the three lists; migration rules UPGRADE, DOWNGRADE
 * or UPDOWN, domain and encoding rules WRITE, READ or WRITEREAD. Wrong ones are 42210.
 */
export function parseRuleSet(v: unknown, field = 'ruleSet'): RuleSet | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidRuleSet(`${field} must be an object with migrationRules, domainRules and encodingRules, got ${JSON.stringify(v)}`);
  const out: RuleSet = {};
  const names = new Set<string>();
  for (const key of ['migrationRules', 'domainRules', 'encodingRules'] as const) {
    const list = v[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw invalidRuleSet(`${field}.${key} must be a list of rules, got ${JSON.stringify(list)}`);
    const rules = list.map((r, i) => parseRule(r, `${field}.${key}[${i}]`));
    for (const r of rules) {
      if (names.has(r.name)) throw invalidRuleSet(`Found rule with duplicate name '${r.name}'`);
      names.add(r.name);
      const migration = MIGRATION_MODES.has(r.mode);
      if (key === 'migrationRules' && !migration) throw invalidRuleSet(`Migration rules can only be UPGRADE, DOWNGRADE, UPDOWN (rule '${r.name}')`);
      if (key !== 'migrationRules' && migration) throw invalidRuleSet(`${key === 'domainRules' ? 'Domain' : 'Encoding'} rules can only be WRITE, READ, WRITEREAD (rule '${r.name}')`);
    }
    if (rules.length) out[key] = rules;
  }
  return out;
}

/** Confluent's Metadata.mergeMetadata: each part of `next` wins key by key over `base`. */
export function mergeMetadata(base: Metadata | undefined, next: Metadata | undefined): Metadata | undefined {
  if (!base) return next;
  if (!next) return base;
  const out: Metadata = {};
  const tags = base.tags && next.tags ? sortedRecord({ ...base.tags, ...next.tags }) : (next.tags ?? base.tags);
  const properties = base.properties && next.properties ? sortedRecord({ ...base.properties, ...next.properties }) : (next.properties ?? base.properties);
  const sensitive = base.sensitive && next.sensitive ? sortedUnique([...base.sensitive, ...next.sensitive]) : (next.sensitive ?? base.sensitive);
  if (tags) out.tags = tags;
  if (properties) out.properties = properties;
  if (sensitive) out.sensitive = sensitive;
  return out;
}

/** Confluent's RuleSet.mergeRuleSets: per list, a rule of `next` replaces the one of `base` with its name. */
export function mergeRuleSets(base: RuleSet | undefined, next: RuleSet | undefined): RuleSet | undefined {
  if (!base) return next;
  if (!next) return base;
  const out: RuleSet = {};
  for (const key of ['migrationRules', 'domainRules', 'encodingRules'] as const) {
    const a = base[key];
    const b = next[key];
    const merged = a?.length && b?.length ? [...a.filter((r) => !b.some((n) => n.name === r.name)), ...b] : b?.length ? b : a;
    if (merged?.length) out[key] = merged;
  }
  return out;
}

/**
 * What a new version carries, as Confluent's maybeSetMetadataRuleSet decides it: what the request
 * says, or else what the previous live version had, under the config's defaults and over them
 * its overrides.
 */
export function effectiveContract(
  requested: { metadata?: Metadata; ruleSet?: RuleSet },
  previous: { metadata?: Metadata; ruleSet?: RuleSet } | undefined,
  config: ContractConfig,
): { metadata?: Metadata; ruleSet?: RuleSet } {
  const metadata = mergeMetadata(mergeMetadata(config.defaultMetadata, requested.metadata ?? previous?.metadata), config.overrideMetadata);
  const ruleSet = mergeRuleSets(mergeRuleSets(config.defaultRuleSet, requested.ruleSet ?? previous?.ruleSet), config.overrideRuleSet);
  return { ...(metadata ? { metadata } : {}), ...(ruleSet ? { ruleSet } : {}) };
}

/** Reads the data-contract fields of a CONFIG record or a PUT /config body; absent ones stay absent. */
export function parseContractConfig(v: Record<string, unknown>): ContractConfig {
  const out: ContractConfig = {};
  const dm = parseMetadata(v['defaultMetadata'], 'defaultMetadata');
  const om = parseMetadata(v['overrideMetadata'], 'overrideMetadata');
  const dr = parseRuleSet(v['defaultRuleSet'], 'defaultRuleSet');
  const or = parseRuleSet(v['overrideRuleSet'], 'overrideRuleSet');
  if (dm) out.defaultMetadata = dm;
  if (om) out.overrideMetadata = om;
  if (dr) out.defaultRuleSet = dr;
  if (or) out.overrideRuleSet = or;
  return out;
}
