import type avro from 'avsc';
import { PreflightError } from '@preflight/core';
import { parseAvro } from './avro.js';

export const LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = (typeof LEVELS)[number];

/** Case-insensitive, as Confluent accepts `backward` as well as `BACKWARD`. */
export function toLevel(v: unknown): CompatibilityLevel | undefined {
  if (typeof v !== 'string') return undefined;
  const up = v.toUpperCase();
  return (LEVELS as readonly string[]).includes(up) ? (up as CompatibilityLevel) : undefined;
}

/** The kinds of incompatibility Avro's SchemaCompatibility reports, under the same names. */
export type IncompatibilityType = 'READER_FIELD_MISSING_DEFAULT_VALUE' | 'TYPE_MISMATCH' | 'NAME_MISMATCH' | 'MISSING_ENUM_SYMBOLS' | 'MISSING_UNION_BRANCH' | 'FIXED_SIZE_MISMATCH';

export interface Incompatibility {
  type: IncompatibilityType;
  /** JSON-pointer-like location in the reader schema, e.g. `/fields/1/type`. */
  path: string;
  description: string;
  additionalInfo: string;
}

type Kind = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string' | 'record' | 'enum' | 'fixed' | 'array' | 'map' | 'union';

interface AnyType {
  typeName: string;
  name?: string;
  aliases?: string[];
  fields?: Array<{ name: string; type: AnyType; aliases: string[]; defaultValue(): unknown }>;
  symbols?: string[];
  default?: unknown;
  size?: number;
  itemsType?: AnyType;
  valuesType?: AnyType;
  types?: AnyType[];
}

function kindOf(t: AnyType): Kind {
  if (t.typeName.startsWith('union')) return 'union';
  if (t.typeName === 'error') return 'record';
  return t.typeName as Kind;
}

/** What a writer's value of one primitive may be read as (Avro's promotion rules). */
const PROMOTIONS: Partial<Record<Kind, Kind[]>> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

const simpleName = (full: string | undefined): string => (full ?? '').split('.').pop() ?? '';

/**
 * Whether data written with `writer` can be read with `reader`, by the Avro specification's
 * schema-resolution rules as Avro's own SchemaCompatibility applies them (which is what Confluent
 * runs): records match by unqualified name or a reader alias, reader fields missing from the
 * writer need a default, writer fields missing from the reader are skipped, every writer union
 * branch must be readable, a non-union writer needs one matching reader branch, enums need every
 * writer symbol unless the reader enum has a default, numbers and string/bytes promote.
 * Labels name the two sides in messages ("new"/"old"). Recursive types terminate: a pair already
 * being checked counts as compatible, the same assumption Avro makes.
 */
export function readerWriterIncompatibilities(reader: avro.Type, writer: avro.Type, labels: { reader: string; writer: string } = { reader: 'reader', writer: 'writer' }): Incompatibility[] {
  const memo = new Map<AnyType, Map<AnyType, Incompatibility[]>>();
  const R = labels.reader;
  const W = labels.writer;

  const check = (r: AnyType, w: AnyType, path: string): Incompatibility[] => {
    const seen = memo.get(r)?.get(w);
    if (seen) return seen;
    const row = memo.get(r) ?? new Map<AnyType, Incompatibility[]>();
    memo.set(r, row);
    row.set(w, []); // in progress: a recursive reference back to this pair is assumed compatible
    const result = compare(r, w, path);
    row.set(w, result);
    return result;
  };

  const nameMismatch = (r: AnyType, w: AnyType, path: string): Incompatibility[] => {
    if (simpleName(r.name) === simpleName(w.name) || (r.aliases ?? []).includes(w.name ?? '')) return [];
    return [{ type: 'NAME_MISMATCH', path: `${path}/name`, description: `The name of the schema has changed (path '${path}/name')`, additionalInfo: `expected: ${w.name}` }];
  };

  const compare = (r: AnyType, w: AnyType, path: string): Incompatibility[] => {
    const rk = kindOf(r);
    const wk = kindOf(w);
    if (wk === 'union') {
      // Data may have been written with any branch, so every branch must be readable.
      return (w.types ?? []).flatMap((branch) => check(r, branch, path));
    }
    if (rk === 'union') {
      if ((r.types ?? []).some((branch) => check(branch, w, path).length === 0)) return [];
      return [
        {
          type: 'MISSING_UNION_BRANCH',
          path,
          description: `The ${R} schema is missing a type inside a union field at path '${path}' in the ${W} schema`,
          additionalInfo: `reader union lacking writer type: ${wk.toUpperCase()}`,
        },
      ];
    }
    if (rk !== wk) {
      if (PROMOTIONS[wk]?.includes(rk)) return [];
      return [
        {
          type: 'TYPE_MISMATCH',
          path,
          description: `The type (path '${path}') of a field in the ${R} schema does not match with the ${W} schema`,
          additionalInfo: `reader type: ${rk.toUpperCase()} not compatible with writer type: ${wk.toUpperCase()}`,
        },
      ];
    }
    switch (rk) {
      case 'record': {
        const out = nameMismatch(r, w, path);
        const writerFields = w.fields ?? [];
        (r.fields ?? []).forEach((rf, i) => {
          const wf = writerFields.find((f) => f.name === rf.name) ?? writerFields.find((f) => rf.aliases.includes(f.name));
          if (wf) {
            out.push(...check(rf.type, wf.type, `${path}/fields/${i}/type`));
          } else if (rf.defaultValue() === undefined) {
            out.push({
              type: 'READER_FIELD_MISSING_DEFAULT_VALUE',
              path: `${path}/fields/${i}`,
              description: `The field '${rf.name}' at path '${path}/fields/${i}' in the ${R} schema has no default value and is missing in the ${W} schema`,
              additionalInfo: rf.name,
            });
          }
        });
        return out;
      }
      case 'enum': {
        const out = nameMismatch(r, w, path);
        const missing = (w.symbols ?? []).filter((s) => !(r.symbols ?? []).includes(s));
        if (missing.length > 0 && r.default === undefined) {
          out.push({
            type: 'MISSING_ENUM_SYMBOLS',
            path: `${path}/symbols`,
            description: `The ${R} schema is missing enum symbols '${missing.join(', ')}' at path '${path}/symbols' in the ${W} schema`,
            additionalInfo: `[${missing.join(', ')}]`,
          });
        }
        return out;
      }
      case 'fixed': {
        const out = nameMismatch(r, w, path);
        if (r.size !== w.size) {
          out.push({
            type: 'FIXED_SIZE_MISMATCH',
            path: `${path}/size`,
            description: `The size of FIXED type field at path '${path}/size' in the ${R} schema does not match with the ${W} schema`,
            additionalInfo: `expected: ${w.size}, found: ${r.size}`,
          });
        }
        return out;
      }
      case 'array':
        return r.itemsType && w.itemsType ? check(r.itemsType, w.itemsType, `${path}/items`) : [];
      case 'map':
        return r.valuesType && w.valuesType ? check(r.valuesType, w.valuesType, `${path}/values`) : [];
      default:
        return [];
    }
  };

  return check(reader, writer, '');
}

export function formatIncompatibility(i: Incompatibility): string {
  return `{errorType:'${i.type}', description:'${i.description}', additionalInfo:'${i.additionalInfo}'}`;
}

export interface VersionedType {
  version: number;
  type: avro.Type;
}

/**
 * Checks a new schema against earlier versions (oldest first) at a level, as Confluent does:
 * BACKWARD — the new schema reads data written with the latest earlier one (TRANSITIVE: every
 * earlier one); FORWARD — the earlier schemas read data written with the new one; FULL — both.
 */
export function checkTypes(next: avro.Type, previous: readonly VersionedType[], level: CompatibilityLevel): { compatible: boolean; messages: string[] } {
  if (level === 'NONE' || previous.length === 0) return { compatible: true, messages: [] };
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const old of against) {
    const found: Incompatibility[] = [];
    if (backward) found.push(...readerWriterIncompatibilities(next, old.type, { reader: 'new', writer: 'old' }));
    if (forward) found.push(...readerWriterIncompatibilities(old.type, next, { reader: 'old', writer: 'new' }));
    if (found.length > 0) messages.push(...found.map(formatIncompatibility), `{oldSchemaVersion: ${old.version}}`);
  }
  if (messages.length > 0) messages.push(`{compatibility: '${level}'}`);
  return { compatible: messages.length === 0, messages };
}

function toType(schema: string | object, what: string): avro.Type {
  try {
    return parseAvro(typeof schema === 'string' ? JSON.parse(schema) : schema);
  } catch (e) {
    throw new PreflightError('VALIDATION', `${what} is not a valid Avro schema: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Avro compatibility of `newSchema` with the earlier versions `previous` (oldest first, numbered
 * 1..n in messages) at `level`. Throws a PreflightError (VALIDATION) when a schema is not valid
 * Avro, so a broken file is never mistaken for an incompatible one.
 */
export function checkAvroCompatibility(newSchema: string | object, previous: Array<string | object>, level: CompatibilityLevel): { compatible: boolean; messages: string[] } {
  const lvl = toLevel(level);
  if (!lvl) throw new PreflightError('VALIDATION', `unknown compatibility level ${JSON.stringify(level)}`);
  const next = toType(newSchema, 'the new schema');
  const earlier = previous.map((s, i) => ({ version: i + 1, type: toType(s, `version ${i + 1}`) }));
  return checkTypes(next, earlier, lvl);
}
