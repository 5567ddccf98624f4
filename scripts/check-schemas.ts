// CI gate: every event schema file is valid Avro, every new version of an event is BACKWARD
// compatible with the one before, so consumers on the new schema still read every event already
// on the topics, and no released schema file was edited (released.json holds their hashes).
// Usage: tsx --conditions=preflight-source scripts/check-schemas.ts [--release] [root]   (default: schemas/events)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAvroCompatibility } from '@preflight/schema-registry';

export interface SchemaCheckResult {
  /** Schema files found. */
  files: number;
  /** (v(N-1), vN) pairs checked for compatibility. */
  pairs: number;
  /** One line per problem, each starting with the file it is about. */
  failures: string[];
}

const FILE = /^(.+)\.v(\d+)\.avsc$/;

function readSchema(file: string): string {
  const text = readFileSync(file, 'utf8');
  // Parsing against no earlier version validates the schema and checks nothing else.
  checkAvroCompatibility(text, [], 'BACKWARD');
  return text;
}

/** Walks `<root>/<family>/<name>.v<N>.avsc` and checks each v(N) against v(N-1). */
export function checkSchemaDir(root: string, show: (path: string) => string = (p) => p): SchemaCheckResult {
  const failures: string[] = [];
  let files = 0;
  let pairs = 0;
  if (!existsSync(root) || !statSync(root).isDirectory()) return { files, pairs, failures: [`${show(root)}: not a directory`] };
  for (const family of readdirSync(root).sort()) {
    const dir = join(root, family);
    if (!statSync(dir).isDirectory()) {
      if (family.endsWith('.avsc')) failures.push(`${show(dir)}: schemas live in a family folder, <root>/<family>/<name>.v<N>.avsc`);
      continue;
    }
    const byName = new Map<string, Map<number, string>>();
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.avsc')) continue;
      const m = FILE.exec(file);
      const version = Number(m?.[2]);
      if (!m || version < 1) {
        failures.push(`${show(join(dir, file))}: the name must be <name>.v<N>.avsc with N ≥ 1`);
        continue;
      }
      files++;
      const versions = byName.get(m[1]!) ?? new Map<number, string>();
      versions.set(version, join(dir, file));
      byName.set(m[1]!, versions);
    }
    for (const [name, versions] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      const nums = [...versions.keys()].sort((a, b) => a - b);
      if (nums.some((n, i) => n !== i + 1)) failures.push(`${show(join(dir, name))}: versions must run v1..vN without gaps (found v${nums.join(', v')})`);
      const texts = new Map<number, string>();
      for (const n of nums) {
        try {
          texts.set(n, readSchema(versions.get(n)!));
        } catch (e) {
          failures.push(`${show(versions.get(n)!)}: ${(e as Error).message}`);
        }
      }
      for (let i = 1; i < nums.length; i++) {
        const prev = texts.get(nums[i - 1]!);
        const next = texts.get(nums[i]!);
        if (prev === undefined || next === undefined) continue;
        pairs++;
        const r = checkAvroCompatibility(next, [prev], 'BACKWARD');
        if (!r.compatible) {
          const reasons = r.messages.filter((m) => m.startsWith('{errorType'));
          failures.push(`${show(versions.get(nums[i]!)!)}: not BACKWARD compatible with ${show(versions.get(nums[i - 1]!)!)}: ${reasons.join('; ')}`);
        }
      }
    }
  }
  return { files, pairs, failures };
}

export const RELEASED = 'released.json';

const sha256 = (file: string): string => `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;

/** Every `<family>/<name>.v<N>.avsc` under root, relative to it, sorted. */
function schemaFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((f) => statSync(join(root, f)).isDirectory())
    .flatMap((family) => readdirSync(join(root, family)).filter((f) => FILE.test(f)).map((f) => `${family}/${f}`))
    .sort();
}

function readReleased(root: string): Record<string, string> | undefined {
  const path = join(root, RELEASED);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : undefined;
}

interface ReleaseStatus {
  /** released.json's entries, or undefined when it does not exist yet. */
  released: Record<string, string> | undefined;
  unreleased: string[];
  edited: string[];
  deleted: string[];
}

/** Compares the schema files with released.json; paths are relative to root. */
function releaseStatus(root: string): ReleaseStatus {
  const released = readReleased(root);
  const files = schemaFiles(root);
  const known = released ?? {};
  return {
    released,
    unreleased: files.filter((f) => known[f] === undefined),
    edited: files.filter((f) => known[f] !== undefined && known[f] !== sha256(join(root, f))),
    deleted: Object.keys(known).filter((f) => !files.includes(f)),
  };
}

/** One line per problem, naming the file and the fix. */
function releaseLines(root: string, show: (path: string) => string, files: { unreleased: string[]; edited: string[]; deleted: string[] }): string[] {
  const at = (f: string): string => show(join(root, f));
  const lines = [
    ...files.unreleased.map((f) => [f, `${at(f)}: not released yet; run npm run schemas:release to record it in ${RELEASED}`] as const),
    ...files.edited.map((f) => {
      const m = FILE.exec(f.split('/')[1]!)!;
      return [f, `${at(f)}: edited after release (its hash differs from ${RELEASED}); released schemas never change: add ${m[1]}.v${Number(m[2]) + 1}.avsc instead`] as const;
    }),
  ];
  return [...lines.sort(([a], [b]) => a.localeCompare(b)).map(([, line]) => line), ...files.deleted.map((f) => `${at(f)}: released but deleted; released schemas stay`)];
}

/**
 * A schema, once released, is never edited: consumers may hold it by id in any registry, and
 * events written with it stay on the topics. released.json records each released file's hash;
 * an edit, a deletion or a file nobody released yet fails, each naming the file and the fix.
 */
export function checkReleased(root: string, show: (path: string) => string = (p) => p): string[] {
  const st = releaseStatus(root);
  if (!st.released) return [`${show(join(root, RELEASED))}: missing; run npm run schemas:release to record the schemas as released`];
  return releaseLines(root, show, st);
}

/** Records every schema not released yet; refuses (and changes nothing) when a released one was edited or deleted. */
export function release(root: string, show: (path: string) => string = (p) => p): { added: string[]; failures: string[] } {
  const st = releaseStatus(root);
  if (st.edited.length || st.deleted.length) return { added: [], failures: releaseLines(root, show, { ...st, unreleased: [] }) };
  const released = { ...st.released };
  for (const f of st.unreleased) released[f] = sha256(join(root, f));
  const sorted = Object.fromEntries(Object.entries(released).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(join(root, RELEASED), `${JSON.stringify(sorted, null, 2)}\n`);
  return { added: st.unreleased, failures: [] };
}

/** The command: prints each failure and a one-line summary; answers the exit code. */
export function main(argv: string[], out: { log(line: string): void; error(line: string): void } = console): number {
  const releasing = argv.includes('--release');
  const args = argv.filter((a) => a !== '--release');
  const root = args[0] ?? fileURLToPath(new URL('../schemas/events', import.meta.url));
  const show = (p: string): string => relative(process.cwd(), p) || p;
  if (releasing) {
    const r = release(root, show);
    for (const f of r.failures) out.error(`✗ ${f}`);
    out.log(r.failures.length ? 'schemas:release: nothing recorded' : `schemas:release: recorded ${r.added.length} new schema file(s)${r.added.length ? `: ${r.added.join(', ')}` : ''}`);
    return r.failures.length > 0 ? 1 : 0;
  }
  const r = checkSchemaDir(root, show);
  const failures = [...r.failures, ...checkReleased(root, show)];
  for (const f of failures) out.error(`✗ ${f}`);
  out.log(`check-schemas: ${r.files} schema file(s), ${r.pairs} version pair(s) checked for BACKWARD compatibility, released ones unchanged, ${failures.length} failure(s)`);
  return failures.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exit(main(process.argv.slice(2)));
}
