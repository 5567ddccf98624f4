import protobuf from 'protobufjs';
import type { SchemaReference } from './store.js';

/**
 * Protobuf schemas as Confluent's registry treats them: `.proto` text (proto2 or proto3) parsed
 * with protobufjs, imports resolved from the schema's references (or from the built-in
 * well-known types), turned into a small model of the file's own declarations that the canonical
 * printer, the message indexes and the compatibility rules (protobuf-compat.ts) all read.
 */

export interface ProtoField {
  name: string;
  tag: number;
  /** The type as written (`int32`, `Item`, `.acme.Money`); for a map, its value type. */
  type: string;
  /** Map fields only: the key type. */
  keyType?: string;
  /** As written; proto3 fields without a label have none, as in Confluent's parser. */
  label?: 'optional' | 'required' | 'repeated';
  /** The enclosing (real, not proto3-optional synthetic) oneof. */
  oneof?: string;
  options: Record<string, unknown>;
  /** Full name (no leading dot) of the message or enum the type resolves to; undefined for scalars. */
  resolved?: string;
}

export interface ProtoMessage {
  kind: 'message';
  name: string;
  /** Full name without a leading dot, package included. */
  fullName: string;
  /** Every field in declaration order, oneof members included. */
  fields: ProtoField[];
  oneofs: Array<{ name: string; options: Record<string, unknown> }>;
  nested: ProtoType[];
  reserved: Array<number[] | string>;
  extensions: number[][];
  options: Record<string, unknown>;
  extend: ProtoExtend[];
}

export interface ProtoEnum {
  kind: 'enum';
  name: string;
  fullName: string;
  values: Array<{ name: string; number: number; options: Record<string, unknown> }>;
  reserved: Array<number[] | string>;
  options: Record<string, unknown>;
}

export type ProtoType = ProtoMessage | ProtoEnum;

export interface ProtoExtend {
  extendee: string;
  field: ProtoField;
}

export interface ProtoService {
  name: string;
  options: Record<string, unknown>;
  methods: Array<{ name: string; requestType: string; responseType: string; requestStream: boolean; responseStream: boolean; options: Record<string, unknown> }>;
}

export interface ProtoFile {
  syntax: string;
  package: string;
  imports: string[];
  publicImports: string[];
  weakImports: string[];
  options: Record<string, unknown>;
  /** Top-level messages and enums in declaration order: message indexes count from this. */
  types: ProtoType[];
  services: ProtoService[];
  extend: ProtoExtend[];
}

/** Where a named type is defined: this file (no reference) or a referenced schema. */
export interface TypeInfo {
  type: ProtoType;
  packageName: string;
  reference?: Pick<SchemaReference, 'subject' | 'version'>;
}

export interface ParsedProto {
  file: ProtoFile;
  /** Every message and enum this file can see (its own and its dependencies'), by full name. */
  types: Map<string, TypeInfo>;
}

/** A referenced schema: `name` is what the importing file writes in `import "…"`. */
export interface ProtoDependency {
  name: string;
  schema: string;
  reference?: Pick<SchemaReference, 'subject' | 'version'>;
}

export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

const PARSE_OPTIONS = { keepCase: true } as const;

/** What protobufjs ships of google/protobuf/*.proto; Confluent knows these without a reference too. */
export function wellKnownType(name: string): protobuf.INamespace | undefined {
  return protobuf.common.get(name) ?? undefined;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

function syntaxOf(text: string): string {
  const m = /^\s*(syntax|edition)\s*=\s*["']([^"']+)["']\s*;/m.exec(stripComments(text));
  if (!m) return 'proto2';
  return m[1] === 'edition' ? `edition ${m[2]}` : m[2]!;
}

/** Public imports are listed by protobufjs among the plain ones; the text says which they are. */
function importsByKind(text: string): { publicImports: Set<string>; weakImports: Set<string> } {
  const publicImports = new Set<string>();
  const weakImports = new Set<string>();
  for (const m of stripComments(text).matchAll(/\bimport\s+(public|weak)\s+["']([^"']+)["']/g)) {
    (m[1] === 'public' ? publicImports : weakImports).add(m[2]!);
  }
  return { publicImports, weakImports };
}

const MAX_FIELD_NUMBER = 2 ** 29 - 1;

/** What protobufjs lets through but protoc (and so Confluent) refuses. */
function checkNumbers(ns: protobuf.NamespaceBase, what: string): void {
  for (const n of ns.nestedArray) {
    if (n instanceof protobuf.Type) {
      for (const f of n.fieldsArray) {
        if (f.id < 1 || f.id > MAX_FIELD_NUMBER) throw new ProtobufError(`${what}: field ${n.name}.${f.name} has number ${f.id}, outside 1..${MAX_FIELD_NUMBER}`);
        if (f.id >= 19000 && f.id <= 19999) throw new ProtobufError(`${what}: field ${n.name}.${f.name} has number ${f.id}, which is reserved for the protobuf implementation (19000-19999)`);
      }
    }
    if (n instanceof protobuf.Namespace) checkNumbers(n, what);
  }
}

function parseText(text: string, root: protobuf.Root, what: string): protobuf.IParserResult {
  const syntax = syntaxOf(text);
  if (syntax !== 'proto2' && syntax !== 'proto3' && !syntax.startsWith('edition ')) throw new ProtobufError(`${what} declares syntax "${syntax}"; only proto2 and proto3 exist`);
  let parsed: protobuf.IParserResult;
  try {
    parsed = protobuf.parse(text, root, PARSE_OPTIONS);
  } catch (e) {
    throw new ProtobufError(`${what} is not a valid .proto file: ${(e as Error).message}`);
  }
  checkNumbers(root, what);
  return parsed;
}

const opts = (o: Record<string, unknown> | undefined): Record<string, unknown> => ({ ...(o ?? {}) });
const dotless = (n: string): string => (n.startsWith('.') ? n.slice(1) : n);

function toField(f: protobuf.Field, realOneofs: ReadonlySet<string>, proto2: boolean): ProtoField {
  const o = opts(f.options);
  const proto3Optional = o['proto3_optional'] === true;
  delete o['proto3_optional'];
  const inOneof = !!f.partOf && realOneofs.has(f.partOf.name);
  // protobufjs drops proto2's explicit `optional`; every proto2 field outside a oneof or map has a label.
  const implicit = proto3Optional || (proto2 && !inOneof && !(f instanceof protobuf.MapField)) ? 'optional' : undefined;
  // `rule` is how protobufjs keeps the label as written; its typings leave it out.
  const rule = (f as unknown as { rule?: string }).rule;
  const label = rule === 'repeated' || rule === 'required' || rule === 'optional' ? rule : implicit;
  const resolved = f.resolvedType ? dotless(f.resolvedType.fullName) : undefined;
  return {
    name: f.name,
    tag: f.id,
    type: f.type,
    ...(f instanceof protobuf.MapField ? { keyType: f.keyType } : {}),
    ...(label ? { label } : {}),
    ...(inOneof ? { oneof: f.partOf!.name } : {}),
    options: o,
    ...(resolved ? { resolved } : {}),
  };
}

function toExtends(ns: protobuf.NamespaceBase, proto2: boolean): ProtoExtend[] {
  return ns.nestedArray.filter((n): n is protobuf.Field => n instanceof protobuf.Field && typeof n.extend === 'string').map((f) => ({ extendee: f.extend!, field: toField(f, new Set(), proto2) }));
}

function toType(t: protobuf.ReflectionObject, proto2: boolean): ProtoType | undefined {
  if (t instanceof protobuf.Type) {
    // protobufjs models a proto3 `optional` as a synthetic oneof; Confluent's parser does not.
    const real = t.oneofsArray.filter((o) => !(o.fieldsArray.length === 1 && o.fieldsArray[0]!.options?.['proto3_optional'] === true));
    const realNames = new Set(real.map((o) => o.name));
    return {
      kind: 'message',
      name: t.name,
      fullName: dotless(t.fullName),
      // Extensions of this message declared elsewhere appear here as sister fields after
      // resolution; they belong to the file that declares them.
      fields: t.fieldsArray.filter((f) => !f.declaringField).map((f) => toField(f, realNames, proto2)),
      oneofs: real.map((o) => ({ name: o.name, options: opts(o.options) })),
      nested: t.nestedArray.map((n) => toType(n, proto2)).filter((x): x is ProtoType => !!x),
      reserved: (t.reserved ?? []).map((r) => (typeof r === 'string' ? r : [...r])),
      extensions: (t.extensions ?? []).map((r) => [...r]),
      options: opts(t.options),
      extend: toExtends(t, proto2),
    };
  }
  if (t instanceof protobuf.Enum) {
    return {
      kind: 'enum',
      name: t.name,
      fullName: dotless(t.fullName),
      values: Object.entries(t.values).map(([name, number]) => ({ name, number, options: opts(t.valuesOptions?.[name]) })),
      reserved: (t.reserved ?? []).map((r) => (typeof r === 'string' ? r : [...r])),
      options: opts(t.options),
    };
  }
  return undefined;
}

function packageNamespace(root: protobuf.Root, pkg: string): protobuf.NamespaceBase {
  if (!pkg) return root;
  const ns = root.lookup(pkg);
  if (!(ns instanceof protobuf.Namespace)) throw new ProtobufError(`package ${pkg} did not parse to a namespace`);
  return ns;
}

/** The top-level names a file declares, in order, by parsing it alone. */
interface OwnNames {
  root: protobuf.Root;
  parsed: protobuf.IParserResult;
  pkg: string;
  names: string[];
  services: string[];
  imports: string[];
  options: Record<string, unknown>;
}

function ownNames(text: string, what: string): OwnNames {
  const root = new protobuf.Root();
  const parsed = parseText(text, root, what);
  const pkg = parsed.package ?? '';
  const ns = packageNamespace(root, pkg);
  const names = ns.nestedArray.filter((n) => n instanceof protobuf.Type || n instanceof protobuf.Enum).map((n) => n.name);
  const services = ns.nestedArray.filter((n) => n instanceof protobuf.Service).map((n) => n.name);
  return { root, parsed, pkg, names, services, imports: [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])], options: opts(root.options ?? (ns === root ? undefined : ns.options)) };
}

/** The model of one file's own declarations, read from `root` (where they may be resolved against dependencies). */
function fileModel(text: string, root: protobuf.Root, own: OwnNames): ProtoFile {
  const ns = packageNamespace(root, own.pkg);
  const syntax = syntaxOf(text);
  const proto2 = syntax === 'proto2';
  const { publicImports, weakImports } = importsByKind(text);
  const imports = own.parsed.imports ?? [];
  return {
    syntax,
    package: own.pkg,
    imports: imports.filter((i) => !publicImports.has(i)),
    publicImports: imports.filter((i) => publicImports.has(i)),
    weakImports: [...new Set([...(own.parsed.weakImports ?? []), ...weakImports])],
    options: own.options,
    types: own.names.map((n) => toType(ns.get(n)!, proto2)).filter((t): t is ProtoType => !!t),
    services: own.services.map((name) => {
      const svc = ns.get(name) as protobuf.Service;
      return {
        name: svc.name,
        options: opts(svc.options),
        methods: svc.methodsArray.map((m) => ({ name: m.name, requestType: m.requestType, responseType: m.responseType, requestStream: !!m.requestStream, responseStream: !!m.responseStream, options: opts(m.options) })),
      };
    }),
    extend: toExtends(ns, proto2),
  };
}

function collectTypes(t: ProtoType, packageName: string, reference: TypeInfo['reference'], into: Map<string, TypeInfo>): void {
  into.set(t.fullName, { type: t, packageName, ...(reference ? { reference } : {}) });
  if (t.kind === 'message') for (const n of t.nested) collectTypes(n, packageName, reference, into);
}

/**
 * Parses a .proto file with its dependencies (each once, dependencies first). Every import must be
 * one of the dependencies or a well-known type protobufjs ships; every type name must resolve.
 * Throws a ProtobufError naming what is wrong.
 */
export function parseProtobuf(text: string, dependencies: readonly ProtoDependency[] = []): ParsedProto {
  const byName = new Map(dependencies.map((d) => [d.name, d]));
  const root = new protobuf.Root();
  const added = new Set<string>();
  const addWellKnown = (imports: readonly string[], what: string): void => {
    for (const imp of imports) {
      if (byName.has(imp) || added.has(imp)) continue;
      const wkt = wellKnownType(imp);
      if (!wkt) throw new ProtobufError(`${what} imports "${imp}", which is neither among the schema's references nor a well-known type`);
      root.addJSON(wkt['nested'] ?? {});
      added.add(imp);
    }
  };
  const deps: Array<{ dep: ProtoDependency; own: ReturnType<typeof ownNames> }> = [];
  for (const dep of dependencies) {
    const own = ownNames(dep.schema, `reference "${dep.name}"`);
    addWellKnown(own.imports, `reference "${dep.name}"`);
    deps.push({ dep, own });
  }
  const own = ownNames(text, 'the schema');
  addWellKnown(own.imports, 'the schema');
  for (const { dep } of deps) parseText(dep.schema, root, `reference "${dep.name}"`);
  parseText(text, root, 'the schema');
  try {
    root.resolveAll();
  } catch (e) {
    throw new ProtobufError((e as Error).message);
  }

  const types = new Map<string, TypeInfo>();
  for (const { dep, own: o } of deps) for (const t of fileModel(dep.schema, root, o).types) collectTypes(t, o.pkg, dep.reference, types);
  for (const imp of added) {
    // Well-known types all live in google.protobuf.
    const nested = wellKnownType(imp)?.['nested'] as Record<string, { nested?: Record<string, { nested?: Record<string, unknown> }> }> | undefined;
    for (const n of Object.keys(nested?.['google']?.nested?.['protobuf']?.nested ?? {})) {
      const t = toType(root.lookup(`google.protobuf.${n}`)!, false);
      if (t) collectTypes(t, 'google.protobuf', { subject: imp, version: 0 }, types);
    }
  }
  const file = fileModel(text, root, own);
  for (const t of file.types) collectTypes(t, own.pkg, undefined, types);
  return { file, types };
}

// ---------------------------------------------------------------------------------------------
// Canonical form

const str = (v: unknown): string => (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : (JSON.stringify(v) ?? 'null'));

function printOptions(o: Record<string, unknown>, normalize: boolean): string[] {
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  if (normalize) keys.sort();
  return keys.map((k) => `${k} = ${str(o[k])}`);
}

function printRanges(reserved: Array<number[] | string>, normalize: boolean): string[] {
  const list = normalize ? [...reserved].sort((a, b) => (typeof a === 'string' ? (typeof b === 'string' ? a.localeCompare(b) : 1) : typeof b === 'string' ? -1 : a[0]! - b[0]!)) : reserved;
  const items = list.map((r) => (typeof r === 'string' ? JSON.stringify(r) : r[0] === r[1] ? `${r[0]}` : `${r[0]} to ${r[1] === 536870911 ? 'max' : r[1]}`));
  return normalize ? [...new Set(items)] : items;
}

interface PrintContext {
  normalize: boolean;
}

function typeRef(f: Pick<ProtoField, 'type' | 'resolved'>, ctx: PrintContext): string {
  return ctx.normalize && f.resolved ? `.${f.resolved}` : f.type;
}

function printField(f: ProtoField, ctx: PrintContext, inOneof: boolean): string {
  const type = f.keyType ? `map<${f.keyType}, ${typeRef(f, ctx)}>` : typeRef(f, ctx);
  const label = !inOneof && !f.keyType && f.label ? `${f.label} ` : '';
  const o = printOptions(f.options, ctx.normalize);
  return `${label}${type} ${f.name} = ${f.tag}${o.length ? ` [${o.join(', ')}]` : ''};`;
}

function block(head: string, body: string[]): string[] {
  return [`${head} {`, ...body.map((l) => `  ${l}`), '}'];
}

function printExtends(ext: ProtoExtend[], ctx: PrintContext): string[] {
  const list = ctx.normalize ? [...ext].sort((a, b) => a.field.tag - b.field.tag) : ext;
  return list.flatMap((e) => block(`extend ${e.extendee}`, [printField(e.field, ctx, false)]));
}

function printType(t: ProtoType, ctx: PrintContext): string[] {
  if (t.kind === 'enum') {
    const values = ctx.normalize ? [...t.values].sort((a, b) => a.number - b.number || a.name.localeCompare(b.name)) : t.values;
    return block(`enum ${t.name}`, [
      ...printOptions(t.options, ctx.normalize).map((o) => `option ${o};`),
      ...(t.reserved.length ? [`reserved ${printRanges(t.reserved, ctx.normalize).join(', ')};`] : []),
      ...values.map((v) => {
        const o = printOptions(v.options, ctx.normalize);
        return `${v.name} = ${v.number}${o.length ? ` [${o.join(', ')}]` : ''};`;
      }),
    ]);
  }
  const byTag = (a: ProtoField, b: ProtoField): number => a.tag - b.tag;
  const plain = t.fields.filter((f) => !f.oneof);
  const oneofs = t.oneofs.map((o) => ({ ...o, fields: t.fields.filter((f) => f.oneof === o.name) }));
  if (ctx.normalize) {
    plain.sort(byTag);
    for (const o of oneofs) o.fields.sort(byTag);
    oneofs.sort((a, b) => (a.fields[0]?.tag ?? 0) - (b.fields[0]?.tag ?? 0));
  }
  // Messages before enums at every level, as Confluent prints them; the order among messages is
  // kept even when normalizing because message indexes count it.
  const nested = [...t.nested.filter((n) => n.kind === 'message'), ...t.nested.filter((n) => n.kind === 'enum')];
  return block(`message ${t.name}`, [
    ...printOptions(t.options, ctx.normalize).map((o) => `option ${o};`),
    ...(t.reserved.length ? [`reserved ${printRanges(t.reserved, ctx.normalize).join(', ')};`] : []),
    ...plain.map((f) => printField(f, ctx, false)),
    ...oneofs.flatMap((o) => block(`oneof ${o.name}`, [...printOptions(o.options, ctx.normalize).map((x) => `option ${x};`), ...o.fields.map((f) => printField(f, ctx, true))])),
    ...(t.extensions.length ? [`extensions ${printRanges(t.extensions, ctx.normalize).join(', ')};`] : []),
    ...nested.flatMap((n) => printType(n, ctx)),
    ...printExtends(t.extend, ctx),
  ]);
}

/**
 * The file printed without comments or layout: two files that print the same declare the same
 * schema. Not normalized, declaration order counts (Confluent compares its canonical print the same
 * way). Normalized (`?normalize=true`), fields are ordered by number, oneofs by their first field,
 * options and imports sorted, type references fully qualified, and proto2's implicit syntax line
 * dropped; top-level and nested messages keep their order because message indexes depend on it.
 */
export function printProto(file: ProtoFile, normalize = false): string {
  const ctx: PrintContext = { normalize };
  const sortIf = (xs: string[]): string[] => (normalize ? [...new Set(xs)].sort() : xs);
  const lines: string[] = [];
  if (!normalize || file.syntax !== 'proto2') lines.push(file.syntax.startsWith('edition ') ? `edition = "${file.syntax.slice(8)}";` : `syntax = "${file.syntax}";`);
  if (file.package) lines.push(`package ${file.package};`);
  for (const i of sortIf(file.imports)) lines.push(`import "${i}";`);
  for (const i of sortIf(file.publicImports)) lines.push(`import public "${i}";`);
  for (const i of sortIf(file.weakImports)) lines.push(`import weak "${i}";`);
  for (const o of printOptions(file.options, normalize)) lines.push(`option ${o};`);
  const types = [...file.types.filter((t) => t.kind === 'message'), ...file.types.filter((t) => t.kind === 'enum')];
  for (const t of types) lines.push(...printType(t, ctx));
  lines.push(...printExtends(file.extend, ctx));
  for (const s of file.services) {
    lines.push(
      ...block(`service ${s.name}`, [
        ...printOptions(s.options, normalize).map((o) => `option ${o};`),
        ...s.methods.map((m) => {
          const o = printOptions(m.options, normalize);
          return `rpc ${m.name} (${m.requestStream ? 'stream ' : ''}${m.requestType}) returns (${m.responseStream ? 'stream ' : ''}${m.responseType})${o.length ? ` { ${o.map((x) => `option ${x};`).join(' ')} }` : ''};`;
        }),
      ]),
    );
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Message indexes (Confluent's Protobuf wire format)

const messagesOf = (types: readonly ProtoType[]): ProtoMessage[] => types.filter((t): t is ProtoMessage => t.kind === 'message');

/**
 * The path of message indexes Confluent's serializers write before a Protobuf payload: the
 * position of each enclosing message among the messages (enums are not counted) of its scope,
 * outermost first. `name` is the full name or the name relative to the package (`Order.Line`).
 */
export function messageIndexes(file: ProtoFile, name: string): number[] {
  const local = file.package && name.startsWith(`${file.package}.`) ? name.slice(file.package.length + 1) : dotless(name);
  const indexes: number[] = [];
  let scope = messagesOf(file.types);
  for (const part of local.split('.')) {
    const i = scope.findIndex((m) => m.name === part);
    if (i < 0) throw new ProtobufError(`no message ${name} in the schema`);
    indexes.push(i);
    scope = messagesOf(scope[i]!.nested);
  }
  return indexes;
}

/** The full name of the message at `indexes` (an empty list means the first message, as Confluent reads it). */
export function messageAt(file: ProtoFile, indexes: readonly number[]): string {
  const path = indexes.length ? indexes : [0];
  let scope = messagesOf(file.types);
  const names: string[] = [];
  for (const i of path) {
    const m = scope[i];
    if (!m) throw new ProtobufError(`invalid message indexes [${indexes.join(', ')}]`);
    names.push(m.name);
    scope = messagesOf(m.nested);
  }
  return file.package ? `${file.package}.${names.join('.')}` : names.join('.');
}

function zigzagVarint(n: number, out: number[]): void {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Indexes as Confluent frames them: `[0]` (the first message) is the single byte 0, anything else a zig-zag varint count then each index. */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const out: number[] = [];
  zigzagVarint(indexes.length, out);
  for (const i of indexes) zigzagVarint(i, out);
  return Buffer.from(out);
}

export function decodeMessageIndexes(buf: Buffer, offset = 0): { indexes: number[]; offset: number } {
  let pos = offset;
  const read = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new ProtobufError('message indexes run past the end of the buffer');
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  };
  const count = read();
  if (count < 0 || count > 64) throw new ProtobufError(`invalid message index count ${count}`);
  if (count === 0) return { indexes: [0], offset: pos };
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) indexes.push(read());
  return { indexes, offset: pos };
}

/**
 * The identity body of a .proto text on its own (no references needed): its non-normalized print.
 * Type names are compared as written, which is what Confluent's non-normalized comparison does.
 */
export function canonicalProto(text: string): string {
  const own = ownNames(text, 'the schema');
  return printProto(fileModel(text, own.root, own));
}
