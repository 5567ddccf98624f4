import type { ParsedProto, ProtoEnum, ProtoField, ProtoMessage, ProtoType, TypeInfo } from './protobuf.js';

/**
 * Protobuf compatibility the way Confluent's protobuf provider decides it: a structural diff of
 * the old and the new file (messages by name, fields by number, enums by number) whose every
 * difference has a type; some types are compatible changes, the rest make the pair incompatible.
 * BACKWARD diffs old→new, FORWARD new→old, as Confluent's validator calls isBackwardCompatible
 * both ways. The rules are Confluent's, written here from its documented behaviour.
 */
export type DifferenceType =
  | 'PACKAGE_CHANGED'
  | 'MESSAGE_ADDED'
  | 'MESSAGE_REMOVED'
  | 'MESSAGE_MOVED'
  | 'ENUM_ADDED'
  | 'ENUM_REMOVED'
  | 'ENUM_CONST_ADDED'
  | 'ENUM_CONST_CHANGED'
  | 'ENUM_CONST_REMOVED'
  | 'FIELD_ADDED'
  | 'FIELD_REMOVED'
  | 'FIELD_NAME_CHANGED'
  | 'FIELD_KIND_CHANGED'
  | 'FIELD_SCALAR_KIND_CHANGED'
  | 'FIELD_NAMED_TYPE_CHANGED'
  | 'FIELD_NUMERIC_LABEL_CHANGED'
  | 'FIELD_STRING_OR_BYTES_LABEL_CHANGED'
  | 'REQUIRED_FIELD_ADDED'
  | 'REQUIRED_FIELD_REMOVED'
  | 'ONEOF_ADDED'
  | 'ONEOF_REMOVED'
  | 'ONEOF_FIELD_ADDED'
  | 'ONEOF_FIELD_REMOVED'
  | 'ONEOF_FIELD_MOVED_TO_TOP_LEVEL'
  | 'MULTIPLE_FIELDS_MOVED_TO_ONEOF'
  | 'FIELD_MOVED_TO_EXISTING_ONEOF';

export const COMPATIBLE_CHANGES: ReadonlySet<DifferenceType> = new Set<DifferenceType>([
  'MESSAGE_ADDED',
  'MESSAGE_MOVED',
  'ENUM_ADDED',
  'ENUM_REMOVED',
  'ENUM_CONST_ADDED',
  'ENUM_CONST_CHANGED',
  'ENUM_CONST_REMOVED',
  'FIELD_ADDED',
  'FIELD_REMOVED',
  'FIELD_NAME_CHANGED',
  'FIELD_STRING_OR_BYTES_LABEL_CHANGED',
  'ONEOF_ADDED',
  'ONEOF_REMOVED',
  'ONEOF_FIELD_ADDED',
  'ONEOF_FIELD_MOVED_TO_TOP_LEVEL',
]);

export interface Difference {
  type: DifferenceType;
  /** `#/Message/fieldNumber`, Confluent's path notation. */
  path: string;
}

/** Descriptions with `%reader`/`%writer` placeholders, filled in as "new"/"old" by direction. */
const DESCRIPTIONS: Partial<Record<DifferenceType, string>> = {
  PACKAGE_CHANGED: "The package at '{path}' in the %R schema does not match the package in the %W schema",
  MESSAGE_REMOVED: "The %R schema is missing a MESSAGE type at path '{path}' in the %W schema",
  FIELD_KIND_CHANGED: "The type of a field at path '{path}' in the %R schema does not match the %W schema",
  FIELD_SCALAR_KIND_CHANGED: "The kind of a SCALAR field at path '{path}' in the %R schema does not match its kind in the %W schema",
  FIELD_NAMED_TYPE_CHANGED: "The type of a MESSAGE field at path '{path}' in the %R schema does not match its type in the %W schema",
  FIELD_NUMERIC_LABEL_CHANGED: "The label for a NUMERIC field at path '{path}' in the %R schema does not match its label in the %W schema",
  REQUIRED_FIELD_ADDED: "A required field  at path '{path}' in the %R schema is missing in the %W schema",
  REQUIRED_FIELD_REMOVED: "The %R schema is missing a required field at path: '{path}' in the %W schema",
  ONEOF_FIELD_REMOVED: "The %R schema is missing a oneof field at path '{path}' in the %W schema",
  MULTIPLE_FIELDS_MOVED_TO_ONEOF: "Multiple fields in the oneof at path '{path}' in the %R schema are outside a oneof in the %W schema",
  FIELD_MOVED_TO_EXISTING_ONEOF: "A field in the oneof at path '{path}' in the %R schema is outside an existing oneof in the %W schema",
};

/** One incompatibility as Confluent lists it in a 409 or `?verbose=true`: `{errorType:"…", description:"…"}`. */
export function formatDifference(d: Difference, reader: string, writer: string): string {
  const description = (DESCRIPTIONS[d.type] ?? '').replace('{path}', d.path).replace('%R', reader).replace('%W', writer);
  return `{errorType:"${d.type}", description:"${description}"}`;
}

class Context {
  readonly diffs: Difference[] = [];
  private readonly path: string[] = [];
  /** Messages being compared further up, so a recursive type stops. */
  private readonly inProgress = new Set<ProtoMessage>();

  constructor(
    readonly original: ParsedProto,
    readonly update: ParsedProto,
  ) {}

  add(type: DifferenceType, ...extra: string[]): void {
    this.diffs.push({ type, path: `#/${[...this.path, ...extra].join('/')}` });
  }

  within<T>(segment: string | undefined, fn: () => T): T {
    if (segment === undefined) return fn();
    this.path.push(segment);
    try {
      return fn();
    } finally {
      this.path.pop();
    }
  }

  /** A message already being compared further up (a recursive type) is not compared again. */
  enter(m: ProtoMessage, fn: () => void): void {
    if (this.inProgress.has(m)) return;
    this.inProgress.add(m);
    try {
      fn();
    } finally {
      this.inProgress.delete(m);
    }
  }

  sub(): Context {
    const c = new Context(this.original, this.update);
    c.path.push(...this.path);
    for (const m of this.inProgress) c.inProgress.add(m);
    return c;
  }

  info(name: string | undefined, isOriginal: boolean): TypeInfo | undefined {
    return name === undefined ? undefined : (isOriginal ? this.original : this.update).types.get(name);
  }
}

const SCALAR_KIND: Record<string, string> = {
  int32: 'GENERAL_NUMBER',
  int64: 'GENERAL_NUMBER',
  uint32: 'GENERAL_NUMBER',
  uint64: 'GENERAL_NUMBER',
  bool: 'GENERAL_NUMBER',
  sint32: 'SIGNED_NUMBER',
  sint64: 'SIGNED_NUMBER',
  string: 'STRING_OR_BYTES',
  bytes: 'STRING_OR_BYTES',
  fixed32: 'FIXED32',
  sfixed32: 'FIXED32',
  fixed64: 'FIXED64',
  sfixed64: 'FIXED64',
  float: 'FLOAT',
  double: 'DOUBLE',
};

interface TypeRef {
  type: string;
  resolved?: string;
  keyType?: string;
}

type Kind = 'SCALAR' | 'MAP' | 'MESSAGE';

function kindOf(ctx: Context, t: TypeRef, isOriginal: boolean): Kind {
  if (t.keyType) return 'MAP';
  if (SCALAR_KIND[t.type]) return 'SCALAR';
  return ctx.info(t.resolved, isOriginal)?.type.kind === 'enum' ? 'SCALAR' : 'MESSAGE';
}

function scalarKind(ctx: Context, t: TypeRef, isOriginal: boolean): string {
  if (ctx.info(t.resolved, isOriginal)?.type.kind === 'enum') return 'GENERAL_NUMBER';
  return SCALAR_KIND[t.type] ?? t.type;
}

function localName(info: TypeInfo | undefined, full: string): string {
  return info && info.packageName && full.startsWith(`${info.packageName}.`) ? full.slice(info.packageName.length + 1) : full;
}

function compareTypes(ctx: Context, original: TypeRef, update: TypeRef, labels: { original?: string; update?: string }): void {
  const ok = kindOf(ctx, original, true);
  const uk = kindOf(ctx, update, false);
  if (ok !== uk) return ctx.add('FIELD_KIND_CHANGED');
  if (ok === 'MAP') {
    compareTypes(ctx, { type: original.keyType! }, { type: update.keyType! }, {});
    compareTypes(ctx, { type: original.type, ...(original.resolved ? { resolved: original.resolved } : {}) }, { type: update.type, ...(update.resolved ? { resolved: update.resolved } : {}) }, {});
    return;
  }
  if (ok === 'SCALAR') {
    const a = scalarKind(ctx, original, true);
    const b = scalarKind(ctx, update, false);
    if (a !== b) return ctx.add('FIELD_SCALAR_KIND_CHANGED');
    if (labels.original && labels.update && labels.original !== labels.update) ctx.add(a === 'STRING_OR_BYTES' ? 'FIELD_STRING_OR_BYTES_LABEL_CHANGED' : 'FIELD_NUMERIC_LABEL_CHANGED');
    return;
  }
  const oi = ctx.info(original.resolved, true);
  const ui = ctx.info(update.resolved, false);
  if (!oi || !ui || oi.type.kind !== 'message' || ui.type.kind !== 'message') {
    if (original.type !== update.type) ctx.add('FIELD_NAMED_TYPE_CHANGED');
    return;
  }
  if (localName(oi, original.resolved!) !== localName(ui, update.resolved!)) return ctx.add('FIELD_NAMED_TYPE_CHANGED');
  // The same subject and version on both sides is the same message: nothing to compare.
  if (oi.reference && ui.reference && oi.reference.subject === ui.reference.subject && oi.reference.version === ui.reference.version) return;
  const sub = ctx.sub();
  compareMessages(sub, oi.type, ui.type);
  ctx.diffs.push(...sub.diffs);
  if (sub.diffs.some((d) => !COMPATIBLE_CHANGES.has(d.type))) ctx.add('FIELD_NAMED_TYPE_CHANGED');
}

function compareFields(ctx: Context, original: ProtoField, update: ProtoField): void {
  if (original.name !== update.name) ctx.add('FIELD_NAME_CHANGED');
  compareTypes(ctx, original, update, { ...(original.label ? { original: original.label } : {}), ...(update.label ? { update: update.label } : {}) });
}

function compareMessages(ctx: Context, original: ProtoMessage, update: ProtoMessage): void {
  ctx.enter(original, () => {
    const oByTag = new Map(original.fields.map((f) => [f.tag, f]));
    const uByTag = new Map(update.fields.map((f) => [f.tag, f]));
    const oOneofs = new Set(original.oneofs.map((o) => o.name));
    const uOneofs = new Set(update.oneofs.map((o) => o.name));

    // A oneof gone by name with none of its members left anywhere is one deliberate deletion.
    const deletedOneofs = new Set([...oOneofs].filter((name) => !uOneofs.has(name) && !original.fields.some((f) => f.oneof === name && uByTag.has(f.tag))));

    // Fields that were independent and are now in one oneof became mutually exclusive.
    for (const oneof of update.oneofs) {
      const origins = new Set<string>();
      let movedIn = 0;
      for (const f of update.fields.filter((x) => x.oneof === oneof.name)) {
        const before = oByTag.get(f.tag);
        if (!before) continue;
        if (before.oneof) origins.add(`oneof:${before.oneof}`);
        else {
          origins.add(`field:${f.tag}`);
          movedIn++;
        }
      }
      if (origins.size > 1) ctx.within(oneof.name, () => ctx.add(movedIn > 1 ? 'MULTIPLE_FIELDS_MOVED_TO_ONEOF' : 'FIELD_MOVED_TO_EXISTING_ONEOF'));
    }

    for (const name of [...new Set([...oOneofs, ...uOneofs])].sort()) {
      if (!uOneofs.has(name)) ctx.within(name, () => ctx.add('ONEOF_REMOVED'));
      else if (!oOneofs.has(name)) ctx.within(name, () => ctx.add('ONEOF_ADDED'));
    }

    for (const tag of [...new Set([...oByTag.keys(), ...uByTag.keys()])].sort((a, b) => a - b)) {
      const o = oByTag.get(tag);
      const u = uByTag.get(tag);
      if (!u) {
        if (o!.oneof) {
          if (!deletedOneofs.has(o!.oneof)) ctx.within(o!.oneof, () => ctx.add('ONEOF_FIELD_REMOVED', String(tag)));
        } else ctx.add(o!.label === 'required' ? 'REQUIRED_FIELD_REMOVED' : 'FIELD_REMOVED', String(tag));
      } else if (!o) {
        if (u.oneof) ctx.within(u.oneof, () => ctx.add('ONEOF_FIELD_ADDED', String(tag)));
        else ctx.add(u.label === 'required' ? 'REQUIRED_FIELD_ADDED' : 'FIELD_ADDED', String(tag));
      } else {
        if (o.oneof && !u.oneof) ctx.add('ONEOF_FIELD_MOVED_TO_TOP_LEVEL', String(tag));
        ctx.within(u.oneof, () => ctx.within(String(tag), () => compareFields(ctx, o, u)));
      }
    }
  });
  compareTypeLists(ctx, original.nested, update.nested);
}

function compareEnums(ctx: Context, original: ProtoEnum, update: ProtoEnum): void {
  const o = new Map(original.values.map((v) => [v.number, v.name]));
  const u = new Map(update.values.map((v) => [v.number, v.name]));
  for (const n of [...new Set([...o.keys(), ...u.keys()])].sort((a, b) => a - b)) {
    if (!u.has(n)) ctx.add('ENUM_CONST_REMOVED', String(n));
    else if (!o.has(n)) ctx.add('ENUM_CONST_ADDED', String(n));
    else if (o.get(n) !== u.get(n)) ctx.add('ENUM_CONST_CHANGED', String(n));
  }
}

function compareTypeLists(ctx: Context, original: readonly ProtoType[], update: readonly ProtoType[]): void {
  const index = (types: readonly ProtoType[]): Map<string, { type: ProtoType; messageIndex: number }> => {
    let i = 0;
    return new Map(types.map((t) => [t.name, { type: t, messageIndex: t.kind === 'message' ? i++ : -1 }]));
  };
  const o = index(original);
  const u = index(update);
  for (const name of [...new Set([...o.keys(), ...u.keys()])]) {
    const a = o.get(name);
    const b = u.get(name);
    ctx.within(name, () => {
      if (a && b && a.type.kind === 'message' && b.type.kind === 'message') {
        compareMessages(ctx, a.type, b.type);
        // Moving a message is compatible: indexes in data refer to the schema of the data's own id.
        if (a.messageIndex !== b.messageIndex) ctx.add('MESSAGE_MOVED');
      } else if (a && b && a.type.kind === 'enum' && b.type.kind === 'enum') {
        compareEnums(ctx, a.type, b.type);
      } else {
        if (a) ctx.add(a.type.kind === 'message' ? 'MESSAGE_REMOVED' : 'ENUM_REMOVED');
        if (b) ctx.add(b.type.kind === 'message' ? 'MESSAGE_ADDED' : 'ENUM_ADDED');
      }
    });
  }
}

/** Every difference from `original` to `update`, compatible or not. */
export function protobufDifferences(original: ParsedProto, update: ParsedProto): Difference[] {
  const ctx = new Context(original, update);
  if (original.file.package !== update.file.package) ctx.add('PACKAGE_CHANGED');
  compareTypeLists(ctx, original.file.types, update.file.types);
  return ctx.diffs;
}

/**
 * What Confluent's `isBackwardCompatible(previous)` answers for `next`: the incompatible
 * differences from `previous` to `next`, as messages. `reader`/`writer` name the sides in the
 * descriptions ("new"/"old" for BACKWARD, "old"/"new" for FORWARD).
 */
export function protobufIncompatibilities(next: ParsedProto, previous: ParsedProto, reader = 'new', writer = 'old'): string[] {
  return protobufDifferences(previous, next)
    .filter((d) => !COMPATIBLE_CHANGES.has(d.type))
    .map((d) => formatDifference(d, reader, writer));
}
