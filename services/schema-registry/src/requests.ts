import { toLevel, type CompatibilityLevel } from './compat.js';
import { invalidCompatibility, invalidMode, invalidSchema, invalidSubject, invalidVersion, schemaNotFound } from './errors.js';
import { CONTRACT_CONFIG_KEYS, parseContractConfig, parseMetadata, parseRuleSet, type ContractConfig, type Metadata, type RuleSet } from './contract.js';
import { MODES, type Mode, type SchemaReference, type SchemaType } from './store.js';

/** Request validation, kept apart from the HTTP framework so it is tested on its own. */

export type VersionRef = number | 'latest';

const MAX_VERSION = 2 ** 31 - 1;

/** `latest`, `-1` (Confluent's alias for latest) or 1..2^31-1; anything else is 42202. */
export function parseVersion(raw: string): VersionRef {
  const s = raw.trim();
  if (s.toLowerCase() === 'latest' || s === '-1') return 'latest';
  if (!/^\d{1,10}$/.test(s)) throw invalidVersion(raw);
  const n = Number(s);
  if (n < 1 || n > MAX_VERSION) throw invalidVersion(raw);
  return n;
}

/** Schema ids are positive 32-bit integers; anything else cannot name a schema. */
export function parseId(raw: string): number {
  if (!/^\d{1,10}$/.test(raw)) throw schemaNotFound();
  const n = Number(raw);
  if (n < 1 || n > MAX_VERSION) throw schemaNotFound(n);
  return n;
}

// Control characters would corrupt logs and the JSON keys on the topic; the two names are
// Confluent's reserved markers for the global and the empty context.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const RESERVED = new Set(['__GLOBAL', '__EMPTY']);

/**
 * Subject names arrive URL-decoded. Anything printable is allowed, including `:`, `/` and spaces,
 * because Confluent allows them (the RecordNameStrategy uses dots, contexts use colons).
 */
export function validateSubject(subject: string): string {
  if (subject.length === 0 || subject.trim().length === 0 || CONTROL.test(subject) || RESERVED.has(subject) || subject.length > 4096) {
    throw invalidSubject(subject);
  }
  return subject;
}

export interface RegisterRequest {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  /** Only honoured in IMPORT mode: the id and version to register under. */
  id?: number;
  version?: number;
  /** Confluent's data contract; absent means "as the previous version" on register. */
  metadata?: Metadata;
  ruleSet?: RuleSet;
  /** `?normalize=true`: compare (and for PROTOBUF store) the normalized schema. */
  normalize?: boolean;
}

/** The body of register, lookup and compatibility requests; `normalize` comes from the query string. */
export function parseRegisterRequest(body: unknown, normalize = false): RegisterRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidSchema('the request body must be a JSON object with a "schema" field');
  const b = body as Record<string, unknown>;
  if (typeof b['schema'] !== 'string' || b['schema'].trim() === '') throw invalidSchema('field "schema" must be a non-empty string');
  const type = b['schemaType'] ?? 'AVRO';
  if (type !== 'AVRO' && type !== 'JSON' && type !== 'PROTOBUF') throw invalidSchema(`unknown schemaType ${JSON.stringify(type)}; this registry accepts AVRO, JSON and PROTOBUF`);
  const refs = b['references'] ?? [];
  if (!Array.isArray(refs)) throw invalidSchema('field "references" must be a list of {name, subject, version}');
  const references = refs.map((r, i): SchemaReference => {
    const ref = (r ?? {}) as Record<string, unknown>;
    const version = ref['version'];
    if (typeof ref['name'] !== 'string' || !ref['name'] || typeof ref['subject'] !== 'string' || !ref['subject'] || typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      throw invalidSchema(`references[${i}] must be {name: string, subject: string, version: positive integer}`);
    }
    return { name: ref['name'], subject: ref['subject'], version };
  });
  const req: RegisterRequest = { schema: b['schema'], schemaType: type, references, ...(normalize ? { normalize } : {}) };
  const metadata = parseMetadata(b['metadata']);
  const ruleSet = parseRuleSet(b['ruleSet']);
  if (metadata) req.metadata = metadata;
  if (ruleSet) req.ruleSet = ruleSet;
  const id = b['id'];
  const version = b['version'];
  if (id !== undefined && id !== null && id !== -1 && id !== 0) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_VERSION) throw invalidSchema('field "id" must be a positive integer');
    req.id = id;
  }
  if (version !== undefined && version !== null && version !== -1 && version !== 0) {
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > MAX_VERSION) throw invalidVersion(JSON.stringify(version));
    req.version = version;
  }
  return req;
}

export interface ConfigRequest {
  compatibility?: CompatibilityLevel;
  /** Only the data-contract fields the request names; `null` clears one. */
  contract: ContractConfig;
  cleared: Array<(typeof CONTRACT_CONFIG_KEYS)[number]>;
}

/**
 * PUT /config: `{"compatibility": "FULL"}` and/or Confluent's `defaultMetadata`,
 * `overrideMetadata`, `defaultRuleSet`, `overrideRuleSet`. What the body leaves out keeps its
 * current value, as Confluent merges a config update; a body with none of them is 42203.
 */
export function parseConfigRequest(body: unknown): ConfigRequest {
  const b = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const named = CONTRACT_CONFIG_KEYS.filter((k) => k in b);
  const v = b['compatibility'];
  if ((v !== undefined && v !== null) || named.length === 0) {
    const level = toLevel(v);
    if (!level) throw invalidCompatibility(v);
    return { compatibility: level, contract: parseContractConfig(b), cleared: named.filter((k) => b[k] === null) };
  }
  return { contract: parseContractConfig(b), cleared: named.filter((k) => b[k] === null) };
}

export function parseModeRequest(body: unknown): Mode {
  const m = body && typeof body === 'object' ? (body as Record<string, unknown>)['mode'] : undefined;
  const up = typeof m === 'string' ? m.toUpperCase() : undefined;
  if (!up || !(MODES as readonly string[]).includes(up)) throw invalidMode(m);
  return up as Mode;
}

/** Query flags: Confluent treats only `true` (any case) as true. */
export const flag = (v: unknown): boolean => (typeof v === 'string' ? v.toLowerCase() === 'true' : v === true);
