import { canonicalAvro, stableStringify } from './avro.js';
import { toLevel, type CompatibilityLevel } from './compat.js';
import { parseContractConfig, parseMetadata, parseRuleSet, type ContractConfig, type Metadata, type RuleSet } from './contract.js';
import { canonicalProto } from './protobuf.js';

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';
export const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
export type Mode = (typeof MODES)[number];

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A version's data contract (Confluent's `metadata` and `ruleSet`); both part of the schema's identity. */
export interface Contract {
  metadata?: Metadata;
  ruleSet?: RuleSet;
}

export interface SchemaEntry extends Contract {
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  /** Identity used to give equal schemas one id; see {@link schemaIdentity}. */
  canonical: string;
}

export interface VersionRecord extends Contract {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  deleted: boolean;
}

/** Keys exactly as Confluent writes them to `_schemas` (JSON, in this field order). */
export type RecordKey =
  | { keytype: 'SCHEMA'; subject: string; version: number; magic: 1 }
  | { keytype: 'CONFIG'; subject: string | null; magic: 0 }
  | { keytype: 'MODE'; subject: string | null; magic: 0 }
  | { keytype: 'DELETE_SUBJECT'; subject: string; magic: 0 }
  | { keytype: 'NOOP'; magic: 0 };

export interface LogRecord {
  key: RecordKey;
  /** null is a tombstone: compaction eventually removes the key altogether. */
  value: Record<string, unknown> | null;
}

export const schemaKey = (subject: string, version: number): RecordKey => ({ keytype: 'SCHEMA', subject, version, magic: 1 });
export const configKey = (subject: string | null): RecordKey => ({ keytype: 'CONFIG', subject, magic: 0 });
export const modeKey = (subject: string | null): RecordKey => ({ keytype: 'MODE', subject, magic: 0 });
export const deleteSubjectKey = (subject: string): RecordKey => ({ keytype: 'DELETE_SUBJECT', subject, magic: 0 });
export const NOOP_KEY: RecordKey = { keytype: 'NOOP', magic: 0 };

/** A SCHEMA record's value in Confluent's shape; `schemaType` and `references` only when not the defaults. */
export function schemaValue(v: VersionRecord): Record<string, unknown> {
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    ...(v.schemaType !== 'AVRO' ? { schemaType: v.schemaType } : {}),
    ...(v.references.length ? { references: v.references } : {}),
    ...(v.metadata ? { metadata: v.metadata } : {}),
    ...(v.ruleSet ? { ruleSet: v.ruleSet } : {}),
    schema: v.schema,
    deleted: v.deleted,
  };
}

const nonEmpty = <T extends object>(v: T | undefined): T | undefined => (v && Object.keys(v).length > 0 ? v : undefined);

/** A contract with empty parts dropped, as Confluent serializes them (NON_EMPTY). */
export function contractOf(c: Contract): Contract {
  const metadata = nonEmpty(c.metadata);
  const ruleSet = nonEmpty(c.ruleSet);
  return { ...(metadata ? { metadata } : {}), ...(ruleSet ? { ruleSet } : {}) };
}

/**
 * The identity under which a schema gets its id: two registrations are the same schema when type,
 * parsed form and references are equal. Never throws: a record some other writer put on the topic
 * that does not parse still gets an identity (its raw text), so the fold keeps it.
 */
export function schemaIdentity(schema: string, schemaType: SchemaType, references: readonly SchemaReference[], contract: Contract = {}): string {
  return identityOf(schemaType, schemaBody(schema, schemaType), references, contract);
}

/** The canonical text of a schema alone; never throws (what does not parse is its raw text). */
export function schemaBody(schema: string, schemaType: SchemaType): string {
  try {
    if (schemaType === 'AVRO') return canonicalAvro(JSON.parse(schema));
    if (schemaType === 'JSON') return stableStringify(JSON.parse(schema));
    return canonicalProto(schema);
  } catch {
    return `raw:${schema}`;
  }
}

/**
 * Type, canonical body, references and, when there is one, the data contract: Confluent gives the
 * same schema with other metadata or rules another id. Without a contract the identity is what it
 * was before contracts existed, so records already on a topic keep their ids.
 */
export function identityOf(schemaType: SchemaType, body: string, references: readonly SchemaReference[], contract: Contract): string {
  const refs = references.map((r) => [r.name, r.subject, r.version]);
  const c = contractOf(contract);
  return `${schemaType}|${body}|${JSON.stringify(refs)}${c.metadata || c.ruleSet ? `|${stableStringify(c)}` : ''}`;
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function readReferences(v: unknown): SchemaReference[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((r): r is Record<string, unknown> => !!r && typeof r === 'object')
    .map((r) => ({ name: String(r['name']), subject: String(r['subject']), version: Number(r['version']) }));
}

/** A stored record's contract; one that does not validate (a foreign writer's) is left out rather than dropping the version. */
function readContract(value: Record<string, unknown>): Contract {
  let metadata: Metadata | undefined;
  let ruleSet: RuleSet | undefined;
  try {
    metadata = parseMetadata(value['metadata']);
  } catch {
    metadata = undefined;
  }
  try {
    ruleSet = parseRuleSet(value['ruleSet']);
  } catch {
    ruleSet = undefined;
  }
  return contractOf({ ...(metadata ? { metadata } : {}), ...(ruleSet ? { ruleSet } : {}) });
}

/**
 * The registry's whole state, folded from `_schemas` records in log order. Pure: the Kafka adapter
 * feeds it, the operations read it. Each key's latest record wins, the same rule log compaction
 * applies, so a compacted topic folds to the same state as the full history. Writers are
 * serialized (see log.ts), so the only conflicting record is one a foreign writer produced: a
 * SCHEMA record that claims an id already bound to a different schema is skipped and counted.
 */
export class RegistryState {
  private readonly subjectVersions = new Map<string, Map<number, VersionRecord>>();
  readonly byId = new Map<number, SchemaEntry>();
  private readonly idByCanonical = new Map<string, number>();
  readonly subjectConfig = new Map<string, CompatibilityLevel>();
  /** Subjects' default/override metadata and rule sets, kept in their CONFIG records beside the level. */
  readonly subjectContract = new Map<string, ContractConfig>();
  globalContract: ContractConfig = {};
  readonly subjectMode = new Map<string, Mode>();
  /** undefined until a global CONFIG record sets it: then Confluent's default applies. */
  private globalConfig: CompatibilityLevel | undefined;
  private globalModeValue: Mode | undefined;
  maxId = 0;
  /** Records skipped because they contradict earlier ones (a foreign or corrupt writer). */
  conflicts = 0;

  apply(record: LogRecord): void {
    const { key, value } = record;
    switch (key.keytype) {
      case 'SCHEMA':
        return this.applySchema(key.subject, key.version, value);
      case 'CONFIG': {
        // Each CONFIG record is the key's whole config, as Confluent writes it after merging an update.
        const level = toLevel(value?.['compatibilityLevel']);
        let contract: ContractConfig = {};
        try {
          contract = value ? parseContractConfig(value) : {};
        } catch {
          this.conflicts++;
        }
        if (key.subject === null) {
          this.globalConfig = level;
          this.globalContract = contract;
          return;
        }
        if (level) this.subjectConfig.set(key.subject, level);
        else this.subjectConfig.delete(key.subject);
        if (Object.keys(contract).length) this.subjectContract.set(key.subject, contract);
        else this.subjectContract.delete(key.subject);
        return;
      }
      case 'MODE': {
        const raw = value?.['mode'];
        const mode = typeof raw === 'string' && (MODES as readonly string[]).includes(raw) ? (raw as Mode) : undefined;
        if (key.subject === null) this.globalModeValue = mode;
        else if (mode) this.subjectMode.set(key.subject, mode);
        else this.subjectMode.delete(key.subject);
        return;
      }
      case 'DELETE_SUBJECT': {
        // Soft-deletes every version up to the watermark, as Confluent's reader does.
        const upTo = typeof value?.['version'] === 'number' ? value['version'] : Infinity;
        for (const rec of this.subjectVersions.get(key.subject)?.values() ?? []) if (rec.version <= upTo) rec.deleted = true;
        return;
      }
      default:
        // NOOP (a reader's sync marker), and keytypes newer Confluent versions write that carry
        // nothing this registry serves (CLEAR_SUBJECT, CONTEXT…).
        return;
    }
  }

  private applySchema(subject: string, version: number, value: Record<string, unknown> | null): void {
    if (typeof subject !== 'string' || !isPositiveInt(version)) return;
    const versions = this.subjectVersions.get(subject);
    if (value === null) {
      // Permanently deleted. The id keeps pointing at its schema while this process lives, so
      // messages already encoded with it still decode.
      versions?.delete(version);
      if (versions?.size === 0) this.subjectVersions.delete(subject);
      return;
    }
    const id = value['id'];
    const schema = value['schema'];
    if (!isPositiveInt(id) || typeof schema !== 'string') {
      this.conflicts++;
      return;
    }
    const schemaType: SchemaType = value['schemaType'] === 'JSON' || value['schemaType'] === 'PROTOBUF' ? value['schemaType'] : 'AVRO';
    const references = readReferences(value['references']);
    const contract = readContract(value);
    const canonical = schemaIdentity(schema, schemaType, references, contract);
    const owner = this.byId.get(id);
    if (owner && owner.canonical !== canonical) {
      this.conflicts++;
      return;
    }
    if (!owner) this.byId.set(id, { id, schema, schemaType, references, canonical, ...contract });
    if (!this.idByCanonical.has(canonical)) this.idByCanonical.set(canonical, id);
    this.maxId = Math.max(this.maxId, id);
    const map = versions ?? new Map<number, VersionRecord>();
    map.set(version, { subject, version, id, schema: owner?.schema ?? schema, schemaType, references, ...contract, deleted: value['deleted'] === true });
    this.subjectVersions.set(subject, map);
  }

  /** Versions of a subject in order; soft-deleted ones only when asked. */
  list(subject: string, includeDeleted = false): VersionRecord[] {
    return [...(this.subjectVersions.get(subject)?.values() ?? [])].filter((v) => includeDeleted || !v.deleted).sort((a, b) => a.version - b.version);
  }

  hasSubject(subject: string, includeDeleted = false): boolean {
    return this.list(subject, includeDeleted).length > 0;
  }

  subjects(includeDeleted = false, prefix = ''): string[] {
    return [...this.subjectVersions.keys()].filter((s) => s.startsWith(prefix) && this.hasSubject(s, includeDeleted)).sort();
  }

  get(subject: string, version: number): VersionRecord | undefined {
    return this.subjectVersions.get(subject)?.get(version);
  }

  /** Versions keep counting after soft deletes; only a permanent delete frees a number. */
  nextVersion(subject: string): number {
    return Math.max(0, ...this.list(subject, true).map((v) => v.version)) + 1;
  }

  idFor(canonical: string): number | undefined {
    return this.idByCanonical.get(canonical);
  }

  /** The version of `subject` holding the schema with this identity, if any. */
  find(subject: string, canonical: string, includeDeleted = false): VersionRecord | undefined {
    const id = this.idByCanonical.get(canonical);
    if (id === undefined) return undefined;
    return this.list(subject, includeDeleted).find((v) => v.id === id);
  }

  /** The level a CONFIG record set for `subject` (null: global), without falling back to a default. */
  ownLevel(subject: string | null): CompatibilityLevel | undefined {
    return subject === null ? this.globalConfig : this.subjectConfig.get(subject);
  }

  ownContract(subject: string | null): ContractConfig {
    return subject === null ? this.globalContract : (this.subjectContract.get(subject) ?? {});
  }

  get globalLevel(): CompatibilityLevel {
    return this.globalConfig ?? 'BACKWARD';
  }

  get globalMode(): Mode {
    return this.globalModeValue ?? 'READWRITE';
  }

  /** The subject's own default/override contract fields, each falling back to the global one. */
  contractConfigFor(subject: string): ContractConfig {
    return { ...this.globalContract, ...(this.subjectContract.get(subject) ?? {}) };
  }

  levelFor(subject: string): CompatibilityLevel {
    return this.subjectConfig.get(subject) ?? this.globalLevel;
  }

  modeFor(subject: string): Mode {
    return this.subjectMode.get(subject) ?? this.globalMode;
  }

  /** Ids of live schemas that reference `subject` version `version`. */
  referencedBy(subject: string, version: number): number[] {
    const ids = new Set<number>();
    for (const versions of this.subjectVersions.values()) {
      for (const v of versions.values()) {
        if (!v.deleted && v.references.some((r) => r.subject === subject && r.version === version)) ids.add(v.id);
      }
    }
    return [...ids].sort((a, b) => a - b);
  }

  /** Every (subject, version) that holds schema `id`. */
  usesOf(id: number, includeDeleted = false): Array<{ subject: string; version: number }> {
    return this.subjects(true).flatMap((subject) =>
      this.list(subject, includeDeleted)
        .filter((v) => v.id === id)
        .map((v) => ({ subject, version: v.version })),
    );
  }
}
