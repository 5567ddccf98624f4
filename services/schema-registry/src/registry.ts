import type avro from 'avsc';
import { parseAvro } from './avro.js';
import { checkTypes, type CompatibilityLevel, type VersionedType } from './compat.js';
import { effectiveContract, type ContractConfig } from './contract.js';
import { parseProtobuf, printProto, ProtobufError, type ParsedProto, type ProtoDependency } from './protobuf.js';
import { protobufIncompatibilities } from './protobuf-compat.js';
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
import { validateSubject, type ConfigRequest, type RegisterRequest, type VersionRef } from './requests.js';
import {
  configKey,
  contractOf,
  deleteSubjectKey,
  identityOf,
  modeKey,
  schemaBody,
  schemaKey,
  schemaValue,
  type LogRecord,
  type Mode,
  type RegistryState,
  type SchemaEntry,
  type SchemaReference,
  type SchemaType,
  type VersionRecord,
  type Contract,
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
  /** As stored and served: compact JSON for AVRO and JSON, the text (normalized if asked) for PROTOBUF. */
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  /** Canonical text of the schema alone (identity = type, body, references, contract). */
  body: string;
  /** The body under `?normalize=true`: the same as `body` except for PROTOBUF. */
  normalizedBody: string;
  avro?: avro.Type;
  proto?: ParsedProto;
}

const READ_ONLY: ReadonlySet<Mode> = new Set(['READONLY', 'READONLY_OVERRIDE']);

/** The registry's operations: reads answer from the folded state, writes go through the log. */
export class Registry {
  /** Parsed Avro types by schema id: an id's schema never changes, so parsing once is enough. */
  private readonly types = new Map<number, avro.Type | null>();
  private readonly protos = new Map<number, ParsedProto | null>();

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

  /** Referenced .proto files, dependencies first, each under the import name its referrer gave it. */
  private protoDependencies(references: readonly SchemaReference[]): ProtoDependency[] {
    const out: ProtoDependency[] = [];
    const done = new Set<string>();
    const visit = (refs: readonly SchemaReference[]): void => {
      for (const ref of refs) {
        const key = `${ref.subject}\u0000${ref.version}`;
        if (done.has(key)) continue;
        done.add(key);
        const rec = this.state.get(ref.subject, ref.version)!;
        visit(rec.references);
        out.push({ name: ref.name, schema: rec.schema, reference: { subject: ref.subject, version: ref.version } });
      }
    };
    this.dependencies(references); // existence and cycles, with the registry's messages
    visit(references);
    return out;
  }

  private parseProto(schema: string, references: readonly SchemaReference[]): ParsedProto {
    const deps = this.protoDependencies(references);
    try {
      return parseProtobuf(schema, deps);
    } catch (e) {
      // Parsing is pure: whatever it throws, protobufjs' own errors included, is about the text.
      throw invalidSchema(e instanceof ProtobufError ? e.message : `not a valid .proto file: ${(e as Error).message}`);
    }
  }

  /** Validates a submitted schema; references must name existing versions. */
  parse(req: Pick<RegisterRequest, 'schema' | 'schemaType' | 'references'> & { normalize?: boolean }): ParsedSchema {
    if (req.schemaType === 'PROTOBUF') {
      const proto = this.parseProto(req.schema, req.references);
      const normalizedText = printProto(proto.file, true);
      const schema = req.normalize ? normalizedText : req.schema;
      return { schema, schemaType: 'PROTOBUF', references: req.references, body: schemaBody(schema, 'PROTOBUF'), normalizedBody: normalizedText, proto };
    }
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
    const body = schemaBody(schema, req.schemaType);
    return { schema, schemaType: req.schemaType, references: req.references, body, normalizedBody: body, ...(type ? { avro: type } : {}) };
  }

  /** A parsed schema's identity with a contract: what ids are given by. */
  private identity(parsed: ParsedSchema, contract: Contract, normalize = false): string {
    return identityOf(parsed.schemaType, normalize ? parsed.normalizedBody : parsed.body, parsed.references, contract);
  }

  /** Stored schemas' normalized bodies, by id (an id's schema never changes). */
  private readonly normalizedById = new Map<number, string>();

  private normalizedBodyOf(entry: SchemaEntry): string {
    let n = this.normalizedById.get(entry.id);
    if (n === undefined) {
      n = schemaBody(entry.schema, entry.schemaType);
      if (entry.schemaType === 'PROTOBUF') {
        const p = this.parsedProtoOf(entry);
        // A stored schema that no longer resolves keeps its plain body.
        if (p) n = printProto(p.file, true);
      }
      this.normalizedById.set(entry.id, n);
    }
    return n;
  }

  /** Whether a stored schema has this identity; under normalize, compared after normalizing it too. */
  private matches(entry: SchemaEntry | undefined, identity: string, normalize: boolean): boolean {
    if (!entry) return false;
    if (entry.canonical === identity) return true;
    return normalize && identityOf(entry.schemaType, this.normalizedBodyOf(entry), entry.references, entry) === identity;
  }

  /** The id whose schema has this identity. */
  private idOf(identity: string, normalize: boolean): number | undefined {
    const exact = this.state.idFor(identity);
    if (exact !== undefined || !normalize) return exact;
    for (const entry of this.state.byId.values()) if (this.matches(entry, identity, true)) return entry.id;
    return undefined;
  }

  /** The version of `subject` holding a schema with this identity. */
  private findVersion(subject: string, identity: string, normalize: boolean, includeDeleted = false): VersionRecord | undefined {
    return this.state.list(subject, includeDeleted).find((v) => this.matches(this.state.byId.get(v.id), identity, normalize));
  }

  /**
   * The contract a new version of `subject` gets (what the request says, else the latest live
   * version's, under the config's defaults and overrides) and the schema's identity with it.
   */
  private contracted(subject: string, parsed: ParsedSchema, req: RegisterRequest): { contract: Contract; identity: string } {
    const contract = contractOf(effectiveContract(req, this.state.list(subject).at(-1), this.state.contractConfigFor(subject)));
    return { contract, identity: this.identity(parsed, contract, req.normalize) };
  }

  private parsedProtoOf(rec: Pick<VersionRecord, 'id' | 'schema' | 'references'>): ParsedProto | null {
    let p = this.protos.get(rec.id);
    if (p === undefined) {
      try {
        p = this.parseProto(rec.schema, rec.references);
      } catch {
        p = null;
      }
      this.protos.set(rec.id, p);
    }
    return p;
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
      } else if (parsed.proto) {
        const p = this.parsedProtoOf(old);
        if (!p) {
          messages.push(`{errorType:'INVALID_OLD_SCHEMA', description:'The stored schema could not be parsed'}`, `{oldSchemaVersion: ${old.version}}`);
          continue;
        }
        // Confluent's validator: BACKWARD asks whether the new schema is backward compatible with
        // the old one, FORWARD the reverse, FULL both.
        const found: string[] = [];
        if (level.startsWith('BACKWARD') || level.startsWith('FULL')) found.push(...protobufIncompatibilities(parsed.proto, p, 'new', 'old'));
        if (level.startsWith('FORWARD') || level.startsWith('FULL')) found.push(...protobufIncompatibilities(p, parsed.proto, 'old', 'new'));
        if (found.length) messages.push(...found, `{oldSchemaVersion: ${old.version}}`);
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
    const normalize = req.normalize === true;
    const importing = req.id !== undefined || req.version !== undefined;
    // Producers re-register their schema on every start: answer those from the state, no write.
    const known = this.findVersion(subject, this.contracted(subject, parsed, req).identity, normalize);
    if (known && !importing && !READ_ONLY.has(this.state.modeFor(subject))) return Promise.resolve(known.id);
    return this.write(() => {
      const mode = this.state.modeFor(subject);
      if (READ_ONLY.has(mode)) throw notPermitted(`Subject ${subject} is in read-only mode`);
      if (importing && mode !== 'IMPORT') throw notPermitted(`Subject ${subject} is not in import mode; an id or version can only be given in IMPORT mode`);
      const { contract, identity } = this.contracted(subject, parsed, req);
      const existing = this.findVersion(subject, identity, normalize);
      if (existing && (req.id === undefined || req.id === existing.id) && (req.version === undefined || req.version === existing.version)) {
        return { records: [], result: existing.id };
      }
      let id: number;
      let version: number;
      if (mode === 'IMPORT') {
        const known = this.idOf(identity, normalize);
        id = req.id ?? known ?? this.state.maxId + 1;
        const owner = this.state.byId.get(id);
        if ((owner && !this.matches(owner, identity, normalize)) || (known !== undefined && known !== id)) throw idDoesNotMatch(id);
        version = req.version ?? this.state.nextVersion(subject);
        const occupied = this.state.get(subject, version);
        if (occupied && occupied.id !== id) throw notPermitted(`Version ${version} of subject ${subject} already holds schema ${occupied.id}`);
      } else {
        const result = this.check(parsed, this.state.list(subject), this.state.levelFor(subject));
        if (!result.compatible) throw incompatible(subject, result.messages);
        id = this.idOf(identity, normalize) ?? this.state.maxId + 1;
        version = this.state.nextVersion(subject);
      }
      const rec: VersionRecord = {
        subject,
        version,
        id,
        schema: this.state.byId.get(id)?.schema ?? parsed.schema,
        schemaType: parsed.schemaType,
        references: parsed.references,
        ...contract,
        deleted: false,
      };
      return { records: [{ key: schemaKey(subject, version), value: schemaValue(rec) }], result: id };
    });
  }

  /**
   * POST /subjects/{s}: the newest version holding this schema with the contract the request
   * gives; failing that, as Confluent does, with the contract a registration would give it (the
   * latest version's, under the config's defaults and overrides), so a client that knows nothing
   * of contracts still finds what it registered.
   */
  lookup(subject: string, req: RegisterRequest, includeDeleted: boolean): VersionRecord {
    if (!this.state.hasSubject(subject, includeDeleted)) throw subjectNotFound(subject);
    const parsed = this.parse(req);
    const normalize = req.normalize === true;
    const newest = (identity: string): VersionRecord | undefined =>
      this.state
        .list(subject, includeDeleted)
        .filter((v) => this.matches(this.state.byId.get(v.id), identity, normalize))
        .at(-1);
    const requested = contractOf(req);
    const found = newest(this.identity(parsed, requested, normalize)) ?? this.inheritedMatch(subject, parsed, req, requested, newest);
    if (!found) throw schemaNotFound();
    return found;
  }

  private inheritedMatch(subject: string, parsed: ParsedSchema, req: RegisterRequest, requested: Contract, newest: (identity: string) => VersionRecord | undefined): VersionRecord | undefined {
    const { contract, identity } = this.contracted(subject, parsed, req);
    return JSON.stringify(contract) === JSON.stringify(requested) ? undefined : newest(identity);
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

  /**
   * Writes the key's whole config: what the request names over what was set before (Confluent
   * merges a config update the same way). Answers what the request set.
   */
  setConfig(subject: string | null, req: ConfigRequest): Promise<{ compatibility?: CompatibilityLevel } & ContractConfig> {
    if (subject !== null) validateSubject(subject);
    return this.write(() => {
      const level = req.compatibility ?? this.state.ownLevel(subject);
      const contract: ContractConfig = { ...this.state.ownContract(subject), ...req.contract };
      for (const k of req.cleared) delete contract[k];
      const value = { ...(level ? { compatibilityLevel: level } : {}), ...contract };
      return { records: [{ key: configKey(subject), value }], result: { ...(req.compatibility ? { compatibility: req.compatibility } : {}), ...req.contract } };
    });
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
