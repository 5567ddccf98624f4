import avro from 'avsc';
import { isLevel, type CompatibilityLevel } from './compat.js';
import { invalidSchema } from './errors.js';

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface VersionRecord {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  deleted: boolean;
}

/** Keys and values exactly as Confluent writes them to `_schemas`. */
export type RecordKey =
  | { keytype: 'SCHEMA'; subject: string; version: number; magic: 1 }
  | { keytype: 'CONFIG'; subject: string | null; magic: 0 }
  | { keytype: 'MODE'; subject: string | null; magic: 0 }
  | { keytype: 'DELETE_SUBJECT'; subject: string; magic: 0 }
  | { keytype: 'NOOP'; magic: 0 };

/**
 * The identity of a schema: Confluent treats two registrations as the same schema when their
 * parsed forms are equal; for Avro that is the parsed schema with every attribute (defaults,
 * order, aliases, logical types, docs), independent of whitespace and key order.
 */
export function canonicalize(schema: string, schemaType: SchemaType, references: SchemaReference[] = []): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema);
  } catch (e) {
    if (schemaType === 'PROTOBUF') return `PROTOBUF:${schema.trim()}`;
    throw invalidSchema(`not valid JSON: ${(e as Error).message}`);
  }
  const refs = references.length ? `|refs:${JSON.stringify(references.map((r) => [r.name, r.subject, r.version]))}` : '';
  if (schemaType === 'AVRO') {
    let type: avro.Type;
    try {
      type = avro.Type.forSchema(parsed as avro.Schema, { wrapUnions: false, registry: {}, typeHook: undefined });
    } catch (e) {
      if (references.length > 0) return `AVRO:${stableStringify(parsed)}${refs}`;
      throw invalidSchema((e as Error).message);
    }
    return `AVRO:${JSON.stringify(type.schema({ exportAttrs: true }))}${refs}`;
  }
  if (schemaType === 'JSON') {
    if (typeof parsed !== 'object' || parsed === null) throw invalidSchema('a JSON Schema must be an object or a boolean');
    return `JSON:${stableStringify(parsed)}${refs}`;
  }
  return `PROTOBUF:${schema.trim()}${refs}`;
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The registry's whole state, folded from `_schemas` records in log order. Pure: the Kafka
 * adapter feeds it, the HTTP layer reads it. Conflicting writes from two instances resolve here:
 * the first record in the log to claim an id or a (subject, version) wins; later ones are ignored.
 */
export class RegistryState {
  readonly versions = new Map<string, Map<number, VersionRecord>>();
  readonly byId = new Map<number, { schema: string; schemaType: SchemaType; references: SchemaReference[]; canonical: string }>();
  readonly idByCanonical = new Map<string, number>();
  readonly config = new Map<string, CompatibilityLevel>();
  readonly mode = new Map<string, string>();
  globalLevel: CompatibilityLevel = 'BACKWARD';
  globalMode = 'READWRITE';
  maxId = 0;

  apply(key: RecordKey, value: Record<string, unknown> | null): void {
    switch (key.keytype) {
      case 'SCHEMA':
        return this.applySchema(key.subject, key.version, value);
      case 'CONFIG': {
        const level = value?.['compatibilityLevel'];
        if (key.subject === null) this.globalLevel = value && isLevel(level) ? (level.toUpperCase() as CompatibilityLevel) : 'BACKWARD';
        else if (value && isLevel(level)) this.config.set(key.subject, level.toUpperCase() as CompatibilityLevel);
        else this.config.delete(key.subject);
        return;
      }
      case 'MODE': {
        const m = typeof value?.['mode'] === 'string' ? value['mode'] : null;
        if (key.subject === null) this.globalMode = m ?? 'READWRITE';
        else if (m) this.mode.set(key.subject, m);
        else this.mode.delete(key.subject);
        return;
      }
      case 'DELETE_SUBJECT': {
        const upTo = typeof value?.['version'] === 'number' ? value['version'] : Infinity;
        for (const rec of this.versions.get(key.subject)?.values() ?? []) if (rec.version <= upTo) rec.deleted = true;
        return;
      }
      case 'NOOP':
        return;
    }
  }

  private applySchema(subject: string, version: number, value: Record<string, unknown> | null): void {
    const versions = this.versions.get(subject) ?? new Map<number, VersionRecord>();
    if (value === null) {
      // Tombstone: the version is permanently gone; the id stays reserved for its schema.
      versions.delete(version);
      if (versions.size === 0) this.versions.delete(subject);
      return;
    }
    const id = Number(value['id']);
    const schema = typeof value['schema'] === 'string' ? value['schema'] : '';
    const schemaType = (typeof value['schemaType'] === 'string' ? value['schemaType'] : 'AVRO') as SchemaType;
    const references = Array.isArray(value['references']) ? (value['references'] as SchemaReference[]) : [];
    let canonical: string;
    try {
      canonical = canonicalize(schema, schemaType, references);
    } catch {
      return; // a record no registry would have written; never let it break the fold
    }
    const owner = this.byId.get(id);
    if (owner && owner.canonical !== canonical) return; // lost an id race
    const existing = versions.get(version);
    if (existing && existing.id !== id) return; // lost a version race
    if (!owner) {
      this.byId.set(id, { schema, schemaType, references, canonical });
      if (!this.idByCanonical.has(canonical)) this.idByCanonical.set(canonical, id);
      this.maxId = Math.max(this.maxId, id);
    }
    versions.set(version, { subject, version, id, schema, schemaType, references, deleted: value['deleted'] === true });
    this.versions.set(subject, versions);
  }

  /** Versions of a subject in order; soft-deleted ones only when asked. */
  list(subject: string, includeDeleted = false): VersionRecord[] {
    return [...(this.versions.get(subject)?.values() ?? [])].filter((v) => includeDeleted || !v.deleted).sort((a, b) => a.version - b.version);
  }

  subjects(includeDeleted = false): string[] {
    return [...this.versions.keys()].filter((s) => this.list(s, includeDeleted).length > 0).sort();
  }

  nextVersion(subject: string): number {
    return Math.max(0, ...this.list(subject, true).map((v) => v.version)) + 1;
  }

  levelFor(subject: string): CompatibilityLevel {
    return this.config.get(subject) ?? this.globalLevel;
  }
}
