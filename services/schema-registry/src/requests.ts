import { toLevel, type CompatibilityLevel } from './compat.js';
import { invalidCompatibility, invalidMode, invalidSchema, invalidSubject, invalidVersion, schemaNotFound } from './errors.js';
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
}

/** The body of register, lookup and compatibility requests. Fields Confluent added later (metadata, ruleSet) are accepted and ignored. */
export function parseRegisterRequest(body: unknown): RegisterRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidSchema('the request body must be a JSON object with a "schema" field');
  const b = body as Record<string, unknown>;
  if (typeof b['schema'] !== 'string' || b['schema'].trim() === '') throw invalidSchema('field "schema" must be a non-empty string');
  const type = b['schemaType'] ?? 'AVRO';
  if (type !== 'AVRO' && type !== 'JSON' && type !== 'PROTOBUF') throw invalidSchema(`unknown schemaType ${JSON.stringify(type)}; this registry accepts AVRO and JSON`);
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
  const req: RegisterRequest = { schema: b['schema'], schemaType: type, references };
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

/** `{"compatibility": "FULL"}`, as PUT /config sends it (the response says compatibilityLevel). */
export function parseCompatibilityRequest(body: unknown): CompatibilityLevel {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)['compatibility'] : undefined;
  const level = toLevel(v);
  if (!level) throw invalidCompatibility(v);
  return level;
}

export function parseModeRequest(body: unknown): Mode {
  const m = body && typeof body === 'object' ? (body as Record<string, unknown>)['mode'] : undefined;
  const up = typeof m === 'string' ? m.toUpperCase() : undefined;
  if (!up || !(MODES as readonly string[]).includes(up)) throw invalidMode(m);
  return up as Mode;
}

/** Query flags: Confluent treats only `true` (any case) as true. */
export const flag = (v: unknown): boolean => (typeof v === 'string' ? v.toLowerCase() === 'true' : v === true);
