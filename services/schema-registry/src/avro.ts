import avro from 'avsc';

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/**
 * Parses and validates an Avro schema (names, defaults, duplicate fields and branches, unknown
 * types). `dependencies` are the schemas it references, dependencies of dependencies first, so
 * their named types resolve. Every union is accepted, including ones avsc could not map to plain
 * JS values (two records in one union): the registry only validates and compares, never encodes.
 */
export function parseAvro(schema: unknown, dependencies: readonly unknown[] = []): avro.Type {
  const registry: Record<string, avro.Type> = {};
  for (const dep of dependencies) avro.Type.forSchema(dep as avro.Schema, { registry, wrapUnions: true });
  return avro.Type.forSchema(schema as avro.Schema, { registry, wrapUnions: true });
}

function fullName(name: string, namespace: string | undefined): string {
  if (name.includes('.') || !namespace) return name;
  return `${namespace}.${name}`;
}

function namespaceOf(full: string): string | undefined {
  const i = full.lastIndexOf('.');
  return i > 0 ? full.slice(0, i) : undefined;
}

/** JSON with object keys sorted at every level, so equal values print equally. */
export function stableStringify(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

/** Known keys in a fixed order, normalised values for the structural ones, every other key sorted. */
function ordered(o: Record<string, unknown>, order: string[], structural: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) {
    if (k in structural) {
      if (structural[k] !== undefined) out[k] = structural[k];
    } else if (o[k] !== undefined) out[k] = sortKeys(o[k]);
  }
  for (const k of Object.keys(o).sort()) {
    if (order.includes(k) || drop.includes(k) || o[k] === undefined) continue;
    out[k] = sortKeys(o[k]);
  }
  return out;
}

function normalize(s: unknown, ns: string | undefined): unknown {
  if (typeof s === 'string') return PRIMITIVES.has(s) ? s : fullName(s, ns);
  if (Array.isArray(s)) return s.map((b) => normalize(b, ns));
  if (!s || typeof s !== 'object') return s;
  const o = s as Record<string, unknown>;
  const type = o['type'];
  if (typeof type !== 'string') return normalize(type, ns);
  const own = typeof o['namespace'] === 'string' ? o['namespace'] || undefined : ns;
  const named = (): { name: string; inner: string | undefined; aliases: unknown } => {
    const name = fullName(String(o['name']), own);
    const inner = namespaceOf(name);
    const aliases = Array.isArray(o['aliases']) ? o['aliases'].map((a) => fullName(String(a), inner)) : undefined;
    return { name, inner, aliases };
  };
  switch (type) {
    case 'record':
    case 'error': {
      const { name, inner, aliases } = named();
      const fields = Array.isArray(o['fields'])
        ? o['fields'].map((f) => {
            const field = (f ?? {}) as Record<string, unknown>;
            // "ascending" is the default sort order; Avro itself leaves it out when printing.
            const order = field['order'] === 'ascending' ? undefined : field['order'];
            return ordered(field, ['name', 'type', 'doc', 'default', 'order', 'aliases'], { type: normalize(field['type'], inner), order });
          })
        : o['fields'];
      return ordered(o, ['type', 'name', 'doc', 'fields', 'aliases'], { name, fields, aliases }, ['namespace']);
    }
    case 'enum': {
      const { name, aliases } = named();
      return ordered(o, ['type', 'name', 'doc', 'symbols', 'default', 'aliases'], { name, aliases }, ['namespace']);
    }
    case 'fixed': {
      const { name, aliases } = named();
      return ordered(o, ['type', 'name', 'doc', 'size', 'aliases'], { name, aliases }, ['namespace']);
    }
    case 'array':
      return ordered(o, ['type', 'items'], { items: normalize(o['items'], ns) });
    case 'map':
      return ordered(o, ['type', 'values'], { values: normalize(o['values'], ns) });
    default: {
      // A primitive, or a reference to a named type, written as an object; with no other
      // attribute it is the same schema as the bare name.
      const rest = Object.keys(o).filter((k) => k !== 'type');
      if (rest.length === 0) return normalize(type, ns);
      return ordered(o, ['type'], { type: normalize(type, ns) });
    }
  }
}

/**
 * The identity of an Avro schema, as Confluent compares schemas by default: the parsed schema with
 * every attribute (doc, defaults, order, aliases, logical types, custom properties) kept, but
 * independent of whitespace, key order and how a name is qualified (`{"name":"a.B"}` and
 * `{"name":"B","namespace":"a"}` are the same). Names it does not define are references to
 * other schemas and are only qualified, never resolved, so this works without the references.
 */
export function canonicalAvro(schema: unknown): string {
  return JSON.stringify(normalize(schema, undefined));
}
