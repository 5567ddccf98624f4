// CI gate: every new version of an event schema must be BACKWARD compatible with the one before,
// so consumers on the new schema still read every event already on the topics.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAvroCompatibility } from '@preflight/schema-registry';

export interface SchemaCheckResult {
  checked: number;
  pairs: number;
  failures: string[];
}

/** Walks `<root>/<family>/<name>.v<N>.avsc` and checks each v(N) against v(N-1). */
export function checkSchemaDir(root: string): SchemaCheckResult {
  const failures: string[] = [];
  let checked = 0;
  let pairs = 0;
  for (const family of readdirSync(root)) {
    const dir = join(root, family);
    if (!statSync(dir).isDirectory()) continue;
    const byName = new Map<string, Map<number, string>>();
    for (const file of readdirSync(dir)) {
      const m = /^(.+)\.v(\d+)\.avsc$/.exec(file);
      if (!m) {
        if (file.endsWith('.avsc')) failures.push(`${join(dir, file)}: name must be <name>.v<N>.avsc`);
        continue;
      }
      checked++;
      const versions = byName.get(m[1]!) ?? new Map<number, string>();
      versions.set(Number(m[2]), join(dir, file));
      byName.set(m[1]!, versions);
    }
    for (const [name, versions] of byName) {
      const nums = [...versions.keys()].sort((a, b) => a - b);
      nums.forEach((n, i) => {
        if (n !== i + 1) failures.push(`${join(dir, name)}: versions must run 1..N without gaps (found v${nums.join(', v')})`);
      });
      for (let i = 1; i < nums.length; i++) {
        pairs++;
        const prev = versions.get(nums[i - 1]!)!;
        const next = versions.get(nums[i]!)!;
        try {
          const r = checkAvroCompatibility(readFileSync(next, 'utf8'), [readFileSync(prev, 'utf8')], 'BACKWARD');
          if (!r.compatible) failures.push(`${next}: not BACKWARD compatible with ${prev}: ${r.messages.join('; ')}`);
        } catch (e) {
          failures.push(`${next}: ${(e as Error).message}`);
        }
      }
    }
  }
  return { checked, pairs, failures };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? fileURLToPath(new URL('../schemas/events', import.meta.url));
  const r = checkSchemaDir(root);
  for (const f of r.failures) console.error(`✗ ${f}`);
  console.log(`schemas: ${r.checked} files, ${r.pairs} version pair(s) checked for BACKWARD compatibility, ${r.failures.length} failure(s)`);
  process.exit(r.failures.length ? 1 : 0);
}
