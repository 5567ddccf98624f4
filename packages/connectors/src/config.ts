// A connector's config is declared once, as a TypeBox schema. From it come the TypeScript type
// (`ConfigOf`), the runtime validation (ajv, every problem at once, naming the field and value),
// the secret fields (leaves marked `x-secret`), the manifest's `configSchema` and the API's
// request body. Checks a schema cannot say (a URL's scheme, credentials inside it) are `refine`
// code run on the validated value.
import { Type, type Static, type TObject, type TSchema, type TString, type TUnsafe } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isSecretKey, validationError, type FieldIssue } from '@preflight/core';

/** Marks a leaf as holding a secret reference (an OpenAPI extension, so the published schema stays valid). */
export const SECRET = 'x-secret';
/** A leaf's own wording for any failure but a missing value. */
export const FIELD_MESSAGE = 'x-message';
const SECRET_REF = '^[a-z][a-z0-9+.-]*:.+';

/** A reference to a secret (`env:NAME`, `file:path`, `vault:…`), never the secret itself. */
export const SecretRef = (description = "env:NAME or file:path in the tenant's secrets namespace"): TString =>
  Type.String({ minLength: 1, pattern: SECRET_REF, description, [SECRET]: true, [FIELD_MESSAGE]: 'must be a secret reference like env:NAME or file:path' });

export const Port = (defaultPort: number) => Type.Integer({ minimum: 1, maximum: 65535, default: defaultPort, [FIELD_MESSAGE]: 'must be a port number between 1 and 65535' });

/** A required, non-empty string. */
export const Text = (options: { description?: string } = {}): TString => Type.String({ minLength: 1, ...options });

/** One of a few strings, as a plain `enum` (TypeBox's literal unions use `const`, which OpenAPI 3.0 lacks). */
export const OneOf = <T extends string>(values: readonly T[], options: { default?: T; description?: string } = {}): TUnsafe<T> => Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

export type ConfigOf<Kind extends string, S extends TObject> = { type: Kind } & Static<S>;

export interface ConfigDefinition<Kind extends string, S extends TObject> {
  type: Kind;
  /** The schema as written: every field, defaults marked required so the parsed type has them. */
  schema: S;
  /** What a caller sends: fields with a default are optional. The manifest's configSchema and the API body. */
  input: Record<string, unknown>;
  /** Dotted paths of the leaves marked `x-secret`. */
  secretFields: string[];
  /** Validates a raw config (every problem at once), fills defaults, drops unknown fields. */
  parse: (raw: unknown) => ConfigOf<Kind, S>;
}

type Node = { type?: unknown; properties?: Record<string, Node>; required?: string[]; default?: unknown; [k: string]: unknown };

/** The schema a caller fills in: a field with a default need not be sent. */
function inputSchema(node: Node): Node {
  if (!node.properties) return { ...node };
  const properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, inputSchema(v)]));
  const required = (node.required ?? []).filter((k) => node.properties![k]?.default === undefined);
  const { required: _drop, ...rest } = node;
  return { ...rest, properties, ...(required.length ? { required } : {}) };
}

/** Every field path in declaration order: issues are reported in the order the schema lists the fields. */
function fieldOrder(node: Node, at: string, out: string[] = []): string[] {
  for (const [k, v] of Object.entries(node.properties ?? {})) {
    const path = at ? `${at}.${k}` : k;
    out.push(path);
    fieldOrder(v, path, out);
  }
  return out;
}

/** Sorts issues by where their field is declared; a field inside an undeclared one ranks with its parent, unknown ones last. */
export function fieldRank(schema: Record<string, unknown>, root = ''): (field: string) => number {
  const order = fieldOrder(schema, root);
  return (field) => {
    const i = order.findIndex((f) => f === field || field.startsWith(`${f}.`));
    return i < 0 ? order.length : i;
  };
}

/** Every object of a config schema closed to unknown fields (which validation then drops). */
function strict(node: Node): Node {
  if (!node.properties) return node;
  return { ...node, additionalProperties: false, properties: Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, strict(v)])) };
}

function secretPaths(node: Node, at = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([k, v]) => {
    const path = at ? `${at}.${k}` : k;
    return v[SECRET] === true ? [path] : secretPaths(v, path);
  });
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function plaintextSecrets(o: Record<string, unknown>, at: string, out: FieldIssue[]): FieldIssue[] {
  for (const [k, v] of Object.entries(o)) {
    if (isSecretKey(k) && v !== undefined && v !== null) {
      out.push({ field: `${at}.${k}`, message: "plaintext secrets are not accepted; reference the secret instead with secretRef (env:NAME or file:path in the tenant's secrets namespace)", value: '[REDACTED]' });
    } else if (isObj(v)) plaintextSecrets(v, `${at}.${k}`, out);
  }
  return out;
}

const article = (t: string): string => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

function issueOf(e: ErrorObject, root: string): FieldIssue {
  const at = `${root}${e.instancePath.replace(/\//g, '.')}`.replace(/^\./, '') || 'body';
  if (e.keyword === 'required') return { field: [root, ...e.instancePath.split('/').slice(1), String(e.params['missingProperty'])].filter(Boolean).join('.'), message: 'is required' };
  const leaf = (e.parentSchema ?? {}) as Node;
  const value = leaf[SECRET] === true ? '[REDACTED]' : e.data;
  if (e.keyword === 'minLength' && e.params['limit'] === 1) return { field: at, message: 'is required' };
  if (typeof leaf[FIELD_MESSAGE] === 'string') return { field: at, message: leaf[FIELD_MESSAGE], value };
  if (e.keyword === 'enum') return { field: at, message: `must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`, value };
  if (e.keyword === 'type') return { field: at, message: `must be ${article(String(e.params['type']))}`, value };
  return { field: at, message: e.message ?? 'is not valid', value };
}

// `verbose` hands each error its schema leaf and value. Unknown fields are dropped (as the
// hand-written parsers did) rather than refused, only where a schema says additionalProperties: false.
const ajv = new Ajv({ allErrors: true, useDefaults: true, removeAdditional: true, verbose: true, keywords: [SECRET, FIELD_MESSAGE] });

/**
 * Validates against a JSON schema, filling defaults: every problem as a field issue under `root`
 * (`config` → `config.port`), one per field, in the order the schema declares the fields.
 */
export function schemaValidator(schema: Record<string, unknown>, root = ''): (value: unknown) => FieldIssue[] {
  // Compiled on first use: importing the connectors (every service and the CLI do) stays cheap.
  let validate: ValidateFunction | undefined;
  const rank = fieldRank(schema, root);
  return (value) => {
    validate ??= ajv.compile(schema);
    if (validate(value)) return [];
    const seen = new Set<string>();
    return (validate.errors ?? [])
      .map((e) => issueOf(e, root))
      .filter((i) => !seen.has(i.field) && seen.add(i.field))
      .sort((a, b) => rank(a.field) - rank(b.field));
  };
}

/** Declares a connector's config: the one schema, and everything derived from it. */
export function defineConfig<Kind extends string, S extends TObject>(type: Kind, schema: S, refine?: (config: ConfigOf<Kind, S>, issues: FieldIssue[]) => ConfigOf<Kind, S>): ConfigDefinition<Kind, S> {
  // Unknown fields are dropped from a config, so what is stored is exactly what the schema says.
  const input = inputSchema(strict(schema));
  const validate = schemaValidator(input, 'config');
  const rank = fieldRank(input, 'config');
  return {
    type,
    schema,
    input,
    secretFields: secretPaths(input),
    parse: (raw) => {
      if (!isObj(raw)) throw validationError([{ field: 'config', message: 'must be an object' }], `invalid ${type} connector config: config: must be an object`);
      // Plaintext secrets first: the most important thing to fix, and never echoed back.
      const secrets = plaintextSecrets(raw, 'config', []);
      const { type: _type, ...value } = structuredClone(raw);
      const found = validate(value);
      // `refine` sees the value even when the schema failed, so every problem is reported at once.
      let config = { type, ...value } as ConfigOf<Kind, S>;
      if (refine) config = refine(config, found);
      const seen = new Set(secrets.map((i) => i.field));
      const issues = [...secrets, ...found.filter((i) => !seen.has(i.field) && seen.add(i.field)).sort((a, b) => rank(a.field) - rank(b.field))];
      if (issues.length) throw validationError(issues, `invalid ${type} connector config: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
      return config;
    },
  };
}

/** The schema's leaf at a dotted path, if declared. */
export function schemaLeaf(schema: Record<string, unknown>, path: string): TSchema | undefined {
  return path.split('.').reduce<Node | undefined>((o, k) => o?.properties?.[k], schema as Node) as TSchema | undefined;
}
