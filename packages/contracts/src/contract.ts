import { parse } from 'yaml';
import { validationError, type FieldIssue } from '@preflight/core';
import { validateOdcs } from './odcs-schema.js';
import { slaExpectations } from './sla.js';

/** The subset of the Open Data Contract Standard v3 the preflight reads. */
export const LOGICAL_TYPES = ['string', 'date', 'timestamp', 'time', 'number', 'integer', 'object', 'array', 'boolean'] as const;
export type OdcsLogicalType = (typeof LOGICAL_TYPES)[number];

export interface QualityRule {
  id?: string;
  type?: 'library' | 'sql' | 'custom' | 'text';
  metric?: string;
  /** ODCS 3.0 spelling of `metric`. */
  rule?: string;
  arguments?: Record<string, unknown>;
  unit?: 'rows' | 'percent';
  mustBe?: unknown;
  mustNotBe?: unknown;
  mustBeGreaterThan?: number;
  mustBeGreaterOrEqualTo?: number;
  mustBeLessThan?: number;
  mustBeLessOrEqualTo?: number;
  mustBeBetween?: [number, number];
  mustNotBeBetween?: [number, number];
  query?: string;
  engine?: string;
  implementation?: unknown;
  name?: string;
  description?: string;
  dimension?: string;
  severity?: string;
}

export interface ContractProperty {
  name: string;
  physicalName?: string;
  logicalType?: OdcsLogicalType;
  physicalType?: string;
  required?: boolean;
  primaryKey?: boolean;
  primaryKeyPosition?: number;
  unique?: boolean;
  classification?: string;
  tags?: string[];
  quality?: QualityRule[];
  /** ODCS v3.1: minLength/maxLength, minimum/maximum, exclusiveMinimum/exclusiveMaximum, pattern. */
  logicalTypeOptions?: Record<string, unknown>;
  /** ODCS v3.2 `enum` entries ({ value }); a plain list is read too. */
  enum?: unknown[];
  relationships?: Relationship[];
  items?: ContractProperty;
}

/** ODCS v3.1 relationship: a foreign key, composite when `from`/`to` are lists. */
export interface Relationship {
  type?: string;
  from?: string | string[];
  to?: string | string[];
}

/** ODCS `servers[]`: where the contract's data lives. */
export interface ContractServer {
  server: string;
  type: string;
  environment?: string;
  host?: string;
  port?: number;
  database?: string;
  schema?: string;
}

export interface ContractObject {
  name: string;
  physicalName?: string;
  logicalType?: string;
  properties: ContractProperty[];
  quality?: QualityRule[];
  relationships?: Relationship[];
}

export interface DataContract {
  apiVersion: string;
  kind: 'DataContract';
  id: string;
  version: string;
  status: string;
  name?: string;
  domain?: string;
  schema: ContractObject[];
  servers?: ContractServer[];
  slaProperties?: Array<{ property: string; value?: unknown; unit?: string; element?: string; id?: string }>;
  customProperties?: Array<{ property: string; value: unknown }>;
}

const PII_CLASSES = new Set(['pii', 'restricted', 'confidential', 'sensitive', 'regulated']);
const PII_TAGS = new Set(['pii', 'gdpr', 'regulated', 'phi', 'pci']);

export function isPii(p: ContractProperty): boolean {
  return (p.classification !== undefined && PII_CLASSES.has(p.classification.toLowerCase())) || (p.tags ?? []).some((t) => PII_TAGS.has(t.toLowerCase()));
}

export function piiFields(c: DataContract): Array<{ dataset: string; field: string }> {
  return c.schema.flatMap((o) => o.properties.filter(isPii).map((p) => ({ dataset: datasetName(o), field: columnName(p) })));
}

export const datasetName = (o: ContractObject): string => o.physicalName ?? o.name;
export const columnName = (p: ContractProperty): string => p.physicalName ?? p.name;

export function contractDatasets(c: DataContract): string[] {
  return c.schema.map(datasetName);
}

export function customProperty(c: DataContract, name: string): unknown {
  return c.customProperties?.find((p) => p.property === name)?.value;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

// Bounded in entries and in text held: a contract may be up to a MiB (the API's body limit).
const PARSED_MAX = 256;
const PARSED_MAX_CHARS = 4 * 1024 * 1024;
const parsed = new Map<string, DataContract>();
let parsedChars = 0;

/**
 * Parses and validates an ODCS v3 contract. Every problem is reported at once, each with the
 * dotted path of the field and its value, as Kafka Connect's config validation does.
 *
 * The answer depends on the text alone, and parsing plus validating the YAML was the largest CPU
 * cost of a file preflight (the handshake, the schema check and the API each parse the same text
 * for every preflight; profile in docs/performance.md). So a valid contract is remembered per
 * exact text (the most recently used kept, bounded) and each caller gets its own deep copy: a
 * caller that changes its contract cannot change another's. An invalid one is parsed again each
 * time, so its error is always built fresh.
 */
export function parseContract(text: string): DataContract {
  const hit = parsed.get(text);
  if (hit) {
    // Most recently used last, so the oldest is the one dropped.
    parsed.delete(text);
    parsed.set(text, hit);
    return structuredClone(hit);
  }
  const contract = parseContractText(text);
  if (text.length <= PARSED_MAX_CHARS / 8) {
    parsed.set(text, structuredClone(contract));
    parsedChars += text.length;
    for (const oldest of parsed.keys()) {
      if (parsed.size <= PARSED_MAX && parsedChars <= PARSED_MAX_CHARS) break;
      parsed.delete(oldest);
      parsedChars -= oldest.length;
    }
  }
  return contract;
}

/** What the parsed-contract memo holds now (its bounds are tested). */
export function parsedContractCacheUsage(): { entries: number; chars: number } {
  return { entries: parsed.size, chars: parsedChars };
}

function parseContractText(text: string): DataContract {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw validationError([{ field: 'contract', message: `not valid YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const issues: FieldIssue[] = [];
  const need = (cond: boolean, field: string, message: string, value?: unknown): void => {
    if (!cond) issues.push({ field, message, ...(value !== undefined ? { value } : {}) });
  };
  if (!isObj(doc)) throw validationError([{ field: 'contract', message: 'must be a YAML mapping (an ODCS v3 data contract)' }]);
  need(typeof doc['apiVersion'] === 'string' && /^v3\./.test(doc['apiVersion']), 'apiVersion', 'must be an ODCS v3 version such as v3.0.2', doc['apiVersion']);
  need(doc['kind'] === 'DataContract', 'kind', 'must be DataContract', doc['kind']);
  need(typeof doc['id'] === 'string' && doc['id'] !== '', 'id', 'is required (a string)', doc['id']);
  need(typeof doc['version'] === 'string' || typeof doc['version'] === 'number', 'version', 'is required', doc['version']);
  need(typeof doc['status'] === 'string', 'status', 'is required (e.g. active)', doc['status']);
  const schema = doc['schema'];
  need(Array.isArray(schema) && schema.length > 0, 'schema', 'must list at least one object', schema === undefined ? undefined : typeof schema);
  const objects = Array.isArray(schema) ? schema : [];
  objects.forEach((o: unknown, i) => {
    const at = `schema[${i}]`;
    if (!isObj(o)) return need(false, at, 'must be a mapping');
    need(typeof o['name'] === 'string' && o['name'] !== '', `${at}.name`, 'is required', o['name']);
    need(o['logicalType'] === undefined || o['logicalType'] === 'object', `${at}.logicalType`, 'must be object for a schema object', o['logicalType']);
    need(Array.isArray(o['properties']), `${at}.properties`, 'must be a list');
    const props = Array.isArray(o['properties']) ? (o['properties'] as unknown[]) : [];
    const seen = new Set<string>();
    props.forEach((p, j) => {
      const pat = `${at}.properties[${j}]`;
      if (!isObj(p)) return need(false, pat, 'must be a mapping');
      need(typeof p['name'] === 'string' && p['name'] !== '', `${pat}.name`, 'is required', p['name']);
      if (typeof p['name'] === 'string') {
        need(!seen.has(p['name']), `${pat}.name`, 'is declared twice', p['name']);
        seen.add(p['name']);
      }
      need(p['logicalType'] === undefined || (LOGICAL_TYPES as readonly unknown[]).includes(p['logicalType']), `${pat}.logicalType`, `must be one of ${LOGICAL_TYPES.join(', ')}`, p['logicalType']);
      for (const flag of ['required', 'primaryKey', 'unique']) need(p[flag] === undefined || typeof p[flag] === 'boolean', `${pat}.${flag}`, 'must be true or false', p[flag]);
      need(p['tags'] === undefined || (Array.isArray(p['tags']) && p['tags'].every((t) => typeof t === 'string')), `${pat}.tags`, 'must be a list of strings');
      checkQuality(p['quality'], `${pat}.quality`, need);
    });
    checkQuality(o['quality'], `${at}.quality`, need);
  });
  // The data team asks for failed-row samples in the contract (ODCS customProperties); the platform caps them.
  const custom = Array.isArray(doc['customProperties']) ? (doc['customProperties'] as unknown[]) : [];
  custom.forEach((cp, k) => {
    if (isObj(cp) && cp['property'] === 'failedRowSamples') need(Number.isInteger(cp['value']) && (cp['value'] as number) >= 0, `customProperties[${k}].value`, 'failedRowSamples must be a whole number of rows (0 or more)', cp['value']);
  });
  // What the standard's published JSON Schema finds besides (unknown keys, types, enums); a field
  // our own checks already named is reported once.
  for (const issue of validateOdcs(doc, doc['apiVersion'])) if (!issues.some((i) => i.field === issue.field)) issues.push(issue);
  // SLA properties a preflight checks must name a property and a readable duration (once the rest is sound).
  if (!issues.length) {
    try {
      slaExpectations(doc as unknown as DataContract);
    } catch (e) {
      issues.push(...((e as { issues?: FieldIssue[] }).issues ?? []));
    }
  }
  if (issues.length) throw validationError(issues, `invalid data contract: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  const c = doc as unknown as DataContract;
  return { ...c, version: String(c.version) };
}

const THRESHOLDS = ['mustBe', 'mustNotBe', 'mustBeGreaterThan', 'mustBeGreaterOrEqualTo', 'mustBeLessThan', 'mustBeLessOrEqualTo', 'mustBeBetween', 'mustNotBeBetween'];
export const LIBRARY_METRICS = ['nullValues', 'missingValues', 'invalidValues', 'duplicateValues', 'rowCount'];

function checkQuality(q: unknown, at: string, need: (cond: boolean, field: string, message: string, value?: unknown) => void): void {
  if (q === undefined) return;
  if (!Array.isArray(q)) return need(false, at, 'must be a list');
  q.forEach((r: unknown, k) => {
    const rat = `${at}[${k}]`;
    if (!isObj(r)) return need(false, rat, 'must be a mapping');
    const type = (r['type'] as string | undefined) ?? 'library';
    need(['library', 'sql', 'custom', 'text'].includes(type), `${rat}.type`, 'must be library, sql, custom or text', r['type']);
    const thresholds = THRESHOLDS.filter((t) => r[t] !== undefined);
    for (const t of ['mustBeBetween', 'mustNotBeBetween']) {
      if (r[t] !== undefined) need(Array.isArray(r[t]) && (r[t] as unknown[]).length === 2 && (r[t] as unknown[]).every((x) => typeof x === 'number'), `${rat}.${t}`, 'must be [min, max]', r[t]);
    }
    need(r['unit'] === undefined || r['unit'] === 'rows' || r['unit'] === 'percent', `${rat}.unit`, 'must be rows or percent', r['unit']);
    if (type === 'library') {
      const metric = r['metric'] ?? r['rule'];
      need(typeof metric === 'string' && LIBRARY_METRICS.includes(metric), `${rat}.metric`, `must be one of ${LIBRARY_METRICS.join(', ')}`, metric);
      need(thresholds.length === 1, rat, `needs exactly one threshold (${THRESHOLDS.join(', ')})`);
    }
    if (type === 'sql') {
      need(typeof r['query'] === 'string' && r['query'] !== '', `${rat}.query`, 'is required for a sql rule');
      need(thresholds.length === 1, rat, 'needs exactly one threshold');
    }
    if (type === 'custom') {
      need(r['engine'] === 'greatExpectations', `${rat}.engine`, 'only greatExpectations is supported', r['engine']);
      need(r['implementation'] !== undefined, `${rat}.implementation`, 'is required for a custom rule');
    }
  });
}
