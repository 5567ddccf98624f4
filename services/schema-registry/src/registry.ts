import type avro from 'avsc';
import { parseAvro } from './avro.js';
import { checkTypes, type CompatibilityLevel, type VersionedType } from './compat.js';
import {
  idDoesNotMatch,
  incompatible,
  invalidSchema,
  notPermitted,
  referenceExists,
  RegistryError,
  schemaNotFound,
  storeError,
  subjectNotFound,
  subjectNotSoftDeleted,
  subjectSoftDeleted,
  versionNotFound,
  versionNotSoftDeleted,
  versionSoftDeleted,
} from './errors.js';
import { validateSubject, type RegisterRequest, type VersionRef } from './requests.js';
import {
  configKey,
  deleteSubjectKey,
  modeKey,
  schemaIdentity,
  schemaKey,
  schemaValue,
  type LogRecord,
  type Mode,
  type RegistryState,
  type SchemaEntry,
  type SchemaReference,
  type SchemaType,
  type VersionRecord,
} from './store.js';

/** What a write decides: the records to append (atomically) and the answer to give once they are applied. */
export interface Decision<T> {
  records: LogRecord[];
  result: T;
}

/**
 * The storage the operations need. `exclusive` runs `decide` on a state that includes every record
 * committed before, with no other writer (in this process or another) able to commit until it is
 * done, and resolves once this instance has applied the records it returned. It may run `decide`
 * again if exclusivity was lost before the commit, so `decide` must be a pure function of the state.
 */
export interface SchemaLog {
  exclusive<T>(decide: () => Decision<T>): Promise<T>;
}

export interface ParsedSchema {
  /** Compact JSON text as stored and served. */
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  canonical: string;
  avro?: avro.Type;
}

const READ_ONLY: ReadonlySet<Mode> = new Set(['READONLY', 'READONLY_OVERRIDE']);

/** The registry's operations: reads answer from the folded state, writes go through the log. */
export class Registry {
  /** Parsed Avro types by schema id: an id's schema never changes, so parsing once is enough. */
  private readonly types = new Map<number, avro.Type | null>();

  constructor(
    readonly state: RegistryState,
    private readonly log: SchemaLog,
  ) {}

  private async write<T>(decide: () => Decision<T>): Promise<T> {
    try {
      return await this.log.exclusive(decide);
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw storeError((e as Error).message);
    }
  }

  /** Referenced schemas in dependency order (a reference's own references first), each once. */
  private dependencies(references: readonly SchemaReference[]): VersionRecord[] {
    const out: VersionRecord[] = [];
    const done = new Set<string>();
    const visit = (refs: readonly SchemaReference[], trail: string[]): void => {
      for (const ref of refs) {
        const id = `${ref.subject}\u0000${ref.version}`;
        if (done.has(id)) continue;
        if (trail.includes(id)) throw invalidSchema(`circular reference through ${ref.subject} version ${ref.version}`);
        const rec = this.state.get(ref.subject, ref.version);
        if (!rec) throw invalidSchema(`reference '${ref.name}' names subject '${ref.subject}' version ${ref.version}, which does not exist`);
        visit(rec.references, [...trail, id]);
        done.add(id);
        out.push(rec);
      }
    };
    visit(references, []);
    return out;
  }

  private avroDependencies(references: readonly SchemaReference[]): unknown[] {
    return this.dependencies(references)
      .filter((d) => d.schemaType === 'AVRO')
      .map((d) => JSON.parse(d.schema) as unknown);
  }

  /** Validates a submitted schema; references must name existing versions. */
  parse(req: Pick<RegisterRequest, 'schema' | 'schemaType' | 'references'>): ParsedSchema {
    if (req.schemaType === 'PROTOBUF') throw invalidSchema('PROTOBUF schemas are not supported by this registry; use AVRO or JSON');
    let json: unknown;
    try {
      json = JSON.parse(req.schema);
    } catch (e) {
      throw invalidSchema(`the schema is not valid JSON: ${(e as Error).message}`);
    }
    let type: avro.Type | undefined;
    if (req.schemaType === 'AVRO') {
      const deps = this.avroDependencies(req.references);
      try {
        type = parseAvro(json, deps);
      } catch (e) {
        throw invalidSchema(`not a valid Avro schema: ${(e as Error).message}`);
      }
    } else {
      if (typeof json !== 'boolean' && (typeof json !== 'object' || json === null || Array.isArray(json))) throw invalidSchema('a JSON Schema must be an object or a boolean');
      this.dependencies(req.references);
    }
    const schema = JSON.stringify(json);
    return { schema, schemaType: req.schemaType, references: req.references, canonical: schemaIdentity(schema, req.schemaType, req.references), ...(type ? { avro: type } : {}) };
  }

  private avroTypeOf(rec: Pick<VersionRecord, 'id' | 'schema' | 'references'>): avro.Type | null {
    let t = this.types.get(rec.id);
    if (t === undefined) {
      try {
        t = parseAvro(JSON.parse(rec.schema), this.avroDependencies(rec.references));
      } catch {
        t = null;
      }
      this.types.set(rec.id, t);
    }
    return t;
  }

  /** Compatibility of a parsed schema with earlier versions (oldest first) at a level. */
  check(parsed: ParsedSchema, previous: readonly VersionRecord[], level: CompatibilityLevel): { compatible: boolean; messages: string[] } {
    if (level === 'NONE' || previous.length === 0) return { compatible: true, messages: [] };
    const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
    const messages: string[] = [];
    const typed: VersionedType[] = [];
    for (const old of against) {
      if (old.schemaType !== parsed.schemaType) {
        messages.push(`{errorType:'SCHEMA_TYPE_MISMATCH', description:'Incompatible because of different schema type: ${parsed.schemaType} after ${old.schemaType}'}`, `{oldSchemaVersion: ${old.version}}`);
      } else if (parsed.avro) {
        const t = this.avroTypeOf(old);
        if (t) typed.push({ version: old.version, type: t });
        else messages.push(`{errorType:'INVALID_OLD_SCHEMA', description:'The stored schema could not be parsed'}`, `{oldSchemaVersion: ${old.version}}`);
      }
      // JSON Schema: accepted without a compatibility check (see docs/schema-registry.md).
    }
    if (parsed.avro && typed.length > 0) {
      const r = checkTypes(parsed.avro, typed, level);
      messages.push(...r.messages.filter((m) => !m.startsWith('{compatibility:')));
    }
    if (messages.length > 0) messages.push(`{compatibility: '${level}'}`);
    return { compatible: messages.length === 0, messages };
  }

  register(subject: string, req: RegisterRequest): Promise<number> {
    validateSubject(subject);
    const parsed = this.parse(req);
    const importing = req.id !== undefined || req.version !== undefined;
    // Producers re-register their schema on every start: answer those from the state, no write.
    const known = this.state.find(subject, parsed.canonical);
    if (known && !importing && !READ_ONLY.has(this.state.modeFor(subject))) return Promise.resolve(known.id);
    return this.write(() => {
      const mode = this.state.modeFor(subject);
      if (READ_ONLY.has(mode)) throw notPermitted(`Subject ${subject} is in read-only mode`);
      if (importing && mode !== 'IMPORT') throw notPermitted(`Subject ${subject} is not in import mode; an id or version can only be given in IMPORT mode`);
      const existing = this.state.find(subject, parsed.canonical);
      if (existing && (req.id === undefined || req.id === existing.id) && (req.version === undefined || req.version === existing.version)) {
        return { records: [], result: existing.id };
      }
      let id: number;
      let version: number;
      if (mode === 'IMPORT') {
        const known = this.state.idFor(parsed.canonical);
        id = req.id ?? known ?? this.state.maxId + 1;
        const owner = this.state.byId.get(id);
        if ((owner && owner.canonical !== parsed.canonical) || (known !== undefined && known !== id)) throw idDoesNotMatch(id);
        version = req.version ?? this.state.nextVersion(subject);
        const occupied = this.state.get(subject, version);
        if (occupied && occupied.id !== id) throw notPermitted(`Version ${version} of subject ${subject} already holds schema ${occupied.id}`);
      } else {
        const result = this.check(parsed, this.state.list(subject), this.state.levelFor(subject));
        if (!result.compatible) throw incompatible(subject, result.messages);
        id = this.state.idFor(parsed.canonical) ?? this.state.maxId + 1;
        version = this.state.nextVersion(subject);
      }
      const rec: VersionRecord = { subject, version, id, schema: this.state.byId.get(id)?.schema ?? parsed.schema, schemaType: parsed.schemaType, references: parsed.references, deleted: false };
      return { records: [{ key: schemaKey(subject, version), value: schemaValue(rec) }], result: id };
    });
  }

  lookup(subject: string, req: RegisterRequest, includeDeleted: boolean): VersionRecord {
    if (!this.state.hasSubject(subject, includeDeleted)) throw subjectNotFound(subject);
    const parsed = this.parse(req);
    const matches = this.state.list(subject, includeDeleted).filter((v) => this.state.byId.get(v.id)?.canonical === parsed.canonical);
    const found = matches.at(-1);
    if (!found) throw schemaNotFound();
    return found;
  }

  version(subject: string, v: VersionRef, includeDeleted = false): VersionRecord {
    if (!this.state.hasSubject(subject, includeDeleted)) throw subjectNotFound(subject);
    if (v === 'latest') return this.state.list(subject, includeDeleted).at(-1)!;
    const rec = this.state.get(subject, v);
    if (!rec || (rec.deleted && !includeDeleted)) throw versionNotFound(v);
    return rec;
  }

  schemaById(id: number): SchemaEntry {
    const s = this.state.byId.get(id);
    if (!s) throw schemaNotFound(id);
    return s;
  }

  /**
   * POST /compatibility: against one version (`latest` of a subject that has none is compatible,
   * as Confluent answers since 7.0), or without a version against what the level selects.
   */
  compatibility(subject: string, version: VersionRef | undefined, req: RegisterRequest): { compatible: boolean; messages: string[] } {
    const parsed = this.parse(req);
    let previous: VersionRecord[];
    if (version === undefined) previous = this.state.list(subject);
    else if (version === 'latest') previous = this.state.list(subject).slice(-1);
    else {
      if (!this.state.hasSubject(subject)) throw subjectNotFound(subject);
      const rec = this.state.get(subject, version);
      if (!rec || rec.deleted) throw versionNotFound(version);
      previous = [rec];
    }
    return this.check(parsed, previous, this.state.levelFor(subject));
  }

  private writable(subject: string): void {
    if (READ_ONLY.has(this.state.modeFor(subject))) throw notPermitted(`Subject ${subject} is in read-only mode`);
  }

  private unreferenced(subject: string, version: number): void {
    if (this.state.referencedBy(subject, version).length > 0) throw referenceExists(subject, version);
  }

  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.write(() => {
      this.writable(subject);
      const all = this.state.list(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const live = all.filter((v) => !v.deleted);
      if (!permanent) {
        if (live.length === 0) throw subjectSoftDeleted(subject);
        for (const v of live) this.unreferenced(subject, v.version);
        return { records: [{ key: deleteSubjectKey(subject), value: { subject, version: live.at(-1)!.version } }], result: live.map((v) => v.version) };
      }
      if (live.length > 0) throw subjectNotSoftDeleted(subject);
      for (const v of all) this.unreferenced(subject, v.version);
      return { records: all.map((v) => ({ key: schemaKey(subject, v.version), value: null })), result: all.map((v) => v.version) };
    });
  }

  deleteVersion(subject: string, v: VersionRef, permanent: boolean): Promise<number> {
    return this.write(() => {
      this.writable(subject);
      if (!this.state.hasSubject(subject, true)) throw subjectNotFound(subject);
      const rec = v === 'latest' ? this.state.list(subject, permanent).at(-1) : this.state.get(subject, v);
      if (!rec) throw versionNotFound(v);
      if (!permanent && rec.deleted) throw versionSoftDeleted(subject, rec.version);
      if (permanent && !rec.deleted) throw versionNotSoftDeleted(subject, rec.version);
      this.unreferenced(subject, rec.version);
      const value = permanent ? null : schemaValue({ ...rec, deleted: true });
      return { records: [{ key: schemaKey(subject, rec.version), value }], result: rec.version };
    });
  }

  setConfig(subject: string | null, level: CompatibilityLevel): Promise<CompatibilityLevel> {
    if (subject !== null) validateSubject(subject);
    return this.write(() => ({ records: [{ key: configKey(subject), value: { compatibilityLevel: level } }], result: level }));
  }

  /** Removes a level and answers the one that applied before. */
  deleteConfig(subject: string | null): Promise<CompatibilityLevel> {
    return this.write(() => {
      if (subject === null) return { records: [{ key: configKey(null), value: null }], result: this.state.globalLevel };
      if (!this.state.hasSubject(subject, true) && !this.state.subjectConfig.has(subject)) throw subjectNotFound(subject);
      return { records: [{ key: configKey(subject), value: null }], result: this.state.levelFor(subject) };
    });
  }

  setMode(subject: string | null, mode: Mode, force: boolean): Promise<Mode> {
    if (subject !== null) validateSubject(subject);
    return this.write(() => {
      // Importing keeps the ids of another registry, which only works if none are taken yet.
      const occupied = subject === null ? this.state.subjects(true).length > 0 : this.state.hasSubject(subject, true);
      if (mode === 'IMPORT' && occupied && !force) throw notPermitted('Cannot import since found existing subjects');
      return { records: [{ key: modeKey(subject), value: { mode } }], result: mode };
    });
  }

  deleteMode(subject: string): Promise<Mode> {
    return this.write(() => {
      if (!this.state.hasSubject(subject, true) && !this.state.subjectMode.has(subject)) throw subjectNotFound(subject);
      return { records: [{ key: modeKey(subject), value: null }], result: this.state.modeFor(subject) };
    });
  }
}
