import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_NAMES, SETTINGS } from '@preflight/bus';

// docs/configuration.md is the operator's reference: it must list every setting of the catalogue
// (packages/bus/src/settings.ts), and the catalogue every variable production code reads, or a
// service would read a variable nobody can find and the start-up check would call it unknown.
const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');

/** Read by code but not settings of the platform: the OS, kafkajs, CI and the test kits. */
const NOT_SETTINGS = new Set(['USER', 'HOME', 'PATH', 'CI', 'KAFKAJS_NO_PARTITIONER_WARNING', 'TEST_LOG_LEVEL']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) return f === 'testing' || f === 'node_modules' || f === 'dist' ? [] : sources(path);
    return f.endsWith('.ts') && !/\.(unit|int)\.spec\.ts$/.test(f) ? [path] : [];
  });
}

describe('configuration reference', () => {
  it('docs/configuration.md lists every setting', () => {
    const missing = SETTINGS.filter((s) => !doc.includes(`\`${s.name}\``)).map((s) => s.name);
    expect(missing).toEqual([]);
  });

  it('names no variable the catalogue does not know', () => {
    const named = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(30);
    expect(named.filter((n) => !KNOWN_NAMES.has(n))).toEqual([]);
  });

  it('every variable production code reads is in the catalogue', () => {
    const unknown: string[] = [];
    const dirs = ['packages', 'services'].flatMap((d) => readdirSync(join(root, d)).map((n) => join(root, d, n, 'src')));
    for (const file of dirs.flatMap(sources)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]|process\.env\.([A-Z][A-Z0-9_]*)/g)) {
        const name = m[1] ?? m[2]!;
        if (!KNOWN_NAMES.has(name) && !NOT_SETTINGS.has(name)) unknown.push(`${relative(root, file)}: ${name}`);
      }
    }
    expect(unknown, 'add these to packages/bus/src/settings.ts and docs/configuration.md').toEqual([]);
  });
});
