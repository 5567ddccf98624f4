import { readFileSync } from 'node:fs';
import { Ajv2019, type ErrorObject, type ValidateFunction } from 'ajv/dist/2019.js';
import type { FieldIssue } from '@preflight/core';

/**
 * The standard's own JSON Schemas (schemas/, vendored from the ODCS release files; see
 * schemas/NOTICE.md), so a contract is judged by the published rules rather than by our reading
 * of them: unknown keys, wrong types and enum values are all found, each with its path.
 */
const SCHEMAS = { 'v3.0': 'odcs-3.0.2.schema.json', 'v3.1': 'odcs-3.1.0.schema.json' } as const;

const compiled = new Map<string, { validate: ValidateFunction; known: Set<string> }>();

/** Every key the schema declares anywhere: a key outside this set is unknown wherever it sits. */
function declaredKeys(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const n of node) declaredKeys(n, into);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) for (const name of Object.keys(v)) into.add(name);
      declaredKeys(v, into);
    }
  }
  return into;
}

function validatorFor(line: keyof typeof SCHEMAS): { validate: ValidateFunction; known: Set<string> } {
  let v = compiled.get(line);
  if (!v) {
    const schema = JSON.parse(readFileSync(new URL(`../schemas/${SCHEMAS[line]}`, import.meta.url), 'utf8')) as Record<string, unknown>;
    // strict: false — the published schemas use annotation keywords Ajv does not know.
    const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: false });
    v = { validate: ajv.compile(schema), known: declaredKeys(schema, new Set()) };
    compiled.set(line, v);
  }
  return v;
}

/** `/schema/0/properties/2` → `schema[0].properties[2]` (the paths the rest of our errors use). */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function issueOf(e: ErrorObject): FieldIssue {
  const at = dotted(e.instancePath);
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
    const key = String(params['additionalProperty'] ?? params['unevaluatedProperty']);
    return { field: at ? `${at}.${key}` : key, message: 'is not an ODCS key (misspelt, or a YAML slip such as an unquoted comma in flow style)' };
  }
  if (e.keyword === 'required') return { field: at ? `${at}.${String(params['missingProperty'])}` : String(params['missingProperty']), message: 'is required' };
  if (e.keyword === 'enum') return { field: at || 'contract', message: `must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}` };
  return { field: at || 'contract', message: e.message ?? e.keyword };
}

/** The ODCS minor line a contract declares, or null for an apiVersion we do not validate. */
export function odcsLine(apiVersion: unknown): keyof typeof SCHEMAS | null {
  if (typeof apiVersion !== 'string') return null;
  if (/^v3\.0\.\d+$/.test(apiVersion)) return 'v3.0';
  if (/^v3\.1\.\d+$/.test(apiVersion)) return 'v3.1';
  return null;
}

/**
 * Every problem the published schema finds, deduplicated. Branch noise from `anyOf`/`oneOf`
 * ("must match a schema in anyOf") is dropped when a more precise problem exists.
 */
export function validateOdcs(doc: unknown, apiVersion: unknown): FieldIssue[] {
  const line = odcsLine(apiVersion);
  if (!line) return [];
  const { validate, known } = validatorFor(line);
  if (validate(doc)) return [];
  const errors = validate.errors ?? [];
  const precise = errors.filter((e) => !['anyOf', 'oneOf', 'if', 'then', 'else', 'allOf'].includes(e.keyword));
  // `unevaluatedProperties` counts the keys of a failed branch as unknown: beside a real problem
  // in the same object (or inside it), such "unknown" keys are echoes of that problem, not typos.
  const real = precise.filter((e) => e.keyword !== 'unevaluatedProperties');
  const echo = (e: ErrorObject): boolean =>
    e.keyword === 'unevaluatedProperties' &&
    known.has(String((e.params as Record<string, unknown>)['unevaluatedProperty'])) &&
    real.some((r) => r.instancePath === e.instancePath || r.instancePath.startsWith(`${e.instancePath}/`));
  const chosen = (precise.length ? precise : errors).filter((e) => !echo(e));
  const seen = new Set<string>();
  const out: FieldIssue[] = [];
  for (const e of chosen) {
    const issue = issueOf(e);
    const key = `${issue.field}|${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}
