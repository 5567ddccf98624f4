// CI gate: every event schema file is valid Avro, and every new version of an event is BACKWARD
// compatible with the one before, so consumers on the new schema still read every event already
// on the topics. Usage: tsx scripts/check-schemas.ts [root]   (default: schemas/events)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** The command: prints each failure and a one-line summary; answers the exit code. */
export function main(argv: string[], out: { log(line: string): void; error(line: string): void } = console): number {
  const root = argv[0] ?? fileURLToPath(new URL('../schemas/events', import.meta.url));
  const r = checkSchemaDir(root, (p) => relative(process.cwd(), p) || p);
  for (const f of r.failures) out.error(`✗ ${f}`);
  out.log(`check-schemas: ${r.files} schema file(s), ${r.pairs} version pair(s) checked for BACKWARD compatibility, ${r.failures.length} failure(s)`);
  return r.failures.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exit(main(process.argv.slice(2)));
}
