import avro from 'avsc';

export const LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = (typeof LEVELS)[number];

export function isLevel(v: unknown): v is CompatibilityLevel {
  return typeof v === 'string' && (LEVELS as readonly string[]).includes(v.toUpperCase());
}

function toType(schema: string | object): avro.Type {
  const parsed: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  return avro.Type.forSchema(parsed as avro.Schema, { wrapUnions: false });
}

/** Whether data written with `writer` can be read with `reader`, by Avro's resolution rules (avsc implements them). */
function canRead(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Checks `newSchema` against earlier versions (oldest first) at a level, as Confluent does:
 * BACKWARD — the new schema reads data written with the latest (or, transitive, every) earlier one;
 * FORWARD — earlier schemas read data written with the new one; FULL — both.
 */
export function checkAvroCompatibility(newSchema: string | object, previous: Array<string | object>, level: CompatibilityLevel): { compatible: boolean; messages: string[] } {
  const lvl = level.toUpperCase() as CompatibilityLevel;
  if (lvl === 'NONE' || previous.length === 0) return { compatible: true, messages: [] };
  const next = toType(newSchema);
  const against = lvl.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = lvl.startsWith('BACKWARD') || lvl.startsWith('FULL');
  const forward = lvl.startsWith('FORWARD') || lvl.startsWith('FULL');
  const messages: string[] = [];
  against.forEach((old, i) => {
    const prev = toType(old);
    const version = previous.length - against.length + i + 1;
    if (backward) {
      const m = canRead(next, prev);
      if (m) messages.push(`new schema cannot read data written with version ${version} (BACKWARD): ${m}`);
    }
    if (forward) {
      const m = canRead(prev, next);
      if (m) messages.push(`version ${version} cannot read data written with the new schema (FORWARD): ${m}`);
    }
  });
  return { compatible: messages.length === 0, messages };
}
