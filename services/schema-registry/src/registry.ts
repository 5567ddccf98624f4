import { checkAvroCompatibility, type CompatibilityLevel } from './compat.js';
import { CODES, RegistryError, schemaNotFound, subjectNotFound, versionNotFound } from './errors.js';
import type { SchemaLog } from './log.js';
import type { RegistryState} from './store.js';
import { canonicalize, type SchemaReference, type SchemaType, type VersionRecord } from './store.js';

export interface RegisterInput {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

/**
 * The registry's operations over the shared state. Writes are serialized inside an instance (one
 * at a time) and across instances by the log: a write reads the log to its end, decides, appends,
 * reads its own record back, and checks that it won; a loser simply decides again.
 */
export class Registry {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly state: RegistryState,
    private readonly log: SchemaLog,
  ) {}

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw new RegistryError(500, CODES.STORE_ERROR, `Error while writing to the schemas topic: ${(e as Error).message}`);
    }
  }

  /** The live version of `subject` whose schema equals `input`, if any. */
  lookup(subject: string, input: RegisterInput, includeDeleted = false): VersionRecord | undefined {
    const canonical = canonicalize(input.schema, input.schemaType, input.references);
    return this.state.list(subject, includeDeleted).find((v) => this.state.byId.get(v.id)?.canonical === canonical);
  }

  register(subject: string, input: RegisterInput): Promise<number> {
    return this.serialized(async () => {
      const canonical = canonicalize(input.schema, input.schemaType, input.references);
      for (let attempt = 0; attempt < 10; attempt++) {
        await this.write(() => this.log.catchUp());
        const same = this.lookup(subject, input);
        if (same) return same.id;
        this.checkCompatible(subject, input);
        const id = this.state.idByCanonical.get(canonical) ?? this.state.maxId + 1;
        const version = this.state.nextVersion(subject);
        await this.write(() =>
          this.log.append(
            { keytype: 'SCHEMA', subject, version, magic: 1 },
            {
              subject,
              version,
              id,
              schema: input.schema,
              ...(input.schemaType !== 'AVRO' ? { schemaType: input.schemaType } : {}),
              ...(input.references.length ? { references: input.references } : {}),
              deleted: false,
            },
          ),
        );
        const won = this.state.versions.get(subject)?.get(version);
        if (won && won.id === id && this.state.byId.get(id)?.canonical === canonical) return id;
      }
      throw new RegistryError(500, CODES.STORE_ERROR, 'Could not register the schema: too much contention on the schemas topic');
    });
  }

  checkCompatible(subject: string, input: RegisterInput): void {
    const level = this.state.levelFor(subject);
    const result = this.compatibility(subject, input, level, this.state.list(subject));
    if (!result.compatible) {
      throw new RegistryError(409, CODES.INCOMPATIBLE, `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: ${result.messages.join('; ')}`);
    }
  }

  compatibility(subject: string, input: RegisterInput, level: CompatibilityLevel, against: VersionRecord[]): { compatible: boolean; messages: string[] } {
    if (input.schemaType !== 'AVRO') return { compatible: true, messages: [] };
    const previous = against.filter((v) => v.schemaType === 'AVRO').map((v) => v.schema);
    try {
      return checkAvroCompatibility(input.schema, previous, level);
    } catch (e) {
      return { compatible: false, messages: [(e as Error).message] };
    }
  }

  version(subject: string, v: number | 'latest', includeDeleted = false): VersionRecord {
    const all = this.state.list(subject, true);
    if (all.length === 0) throw subjectNotFound(subject);
    const live = this.state.list(subject, includeDeleted);
    if (v === 'latest') {
      const last = live.at(-1);
      if (!last) throw subjectNotFound(subject);
      return last;
    }
    const rec = all.find((x) => x.version === v);
    if (!rec || (rec.deleted && !includeDeleted)) throw versionNotFound(subject, v);
    return rec;
  }

  schemaById(id: number): { schema: string; schemaType: SchemaType; references: SchemaReference[] } {
    const s = this.state.byId.get(id);
    if (!s) throw schemaNotFound();
    return s;
  }

  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.serialized(async () => {
      await this.write(() => this.log.catchUp());
      const all = this.state.list(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const live = all.filter((v) => !v.deleted);
      if (!permanent) {
        if (live.length === 0) throw new RegistryError(404, CODES.SUBJECT_SOFT_DELETED, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`);
        await this.write(() => this.log.append({ keytype: 'DELETE_SUBJECT', subject, magic: 0 }, { subject, version: live.at(-1)!.version }));
        return live.map((v) => v.version);
      }
      if (live.length > 0) throw new RegistryError(404, CODES.SUBJECT_NOT_SOFT_DELETED, `Subject '${subject}' was not deleted first before being permanently deleted`);
      for (const v of all) await this.write(() => this.log.append({ keytype: 'SCHEMA', subject, version: v.version, magic: 1 }, null));
      return all.map((v) => v.version);
    });
  }

  deleteVersion(subject: string, v: number | 'latest', permanent: boolean): Promise<number> {
    return this.serialized(async () => {
      await this.write(() => this.log.catchUp());
      const all = this.state.list(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const rec = v === 'latest' ? (permanent ? all.at(-1) : this.state.list(subject).at(-1)) : all.find((x) => x.version === v);
      if (!rec) throw versionNotFound(subject, v);
      if (!permanent) {
        if (rec.deleted) throw new RegistryError(404, CODES.VERSION_SOFT_DELETED, `Subject '${subject}' Version ${rec.version} was soft deleted. Set permanent=true to delete permanently`);
        await this.write(() => this.log.append({ keytype: 'SCHEMA', subject, version: rec.version, magic: 1 }, { ...recordValue(rec), deleted: true }));
      } else {
        if (!rec.deleted) throw new RegistryError(404, CODES.VERSION_NOT_SOFT_DELETED, `Subject '${subject}' Version ${rec.version} was not deleted first before being permanently deleted`);
        await this.write(() => this.log.append({ keytype: 'SCHEMA', subject, version: rec.version, magic: 1 }, null));
      }
      return rec.version;
    });
  }

  setConfig(subject: string | null, level: CompatibilityLevel | null): Promise<void> {
    return this.serialized(() => this.write(() => this.log.append({ keytype: 'CONFIG', subject, magic: 0 }, level ? { compatibilityLevel: level } : null)));
  }

  setMode(subject: string | null, mode: string | null): Promise<void> {
    return this.serialized(() => this.write(() => this.log.append({ keytype: 'MODE', subject, magic: 0 }, mode ? { mode } : null)));
  }
}

function recordValue(v: VersionRecord): Record<string, unknown> {
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    schema: v.schema,
    ...(v.schemaType !== 'AVRO' ? { schemaType: v.schemaType } : {}),
    ...(v.references.length ? { references: v.references } : {}),
    deleted: v.deleted,
  };
}
