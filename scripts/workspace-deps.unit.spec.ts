import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// npm hoists most packages to the root node_modules, so an import a workspace never declared
// still resolves here — until a version bump nests it and the service fails to start (seen:
// the projector imported the registry client without declaring it). This keeps every
// workspace's production imports declared in its own package.json.
const root = fileURLToPath(new URL('..', import.meta.url));
const workspaces = ['packages', 'services'].flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    // Specs and test kits (src/testing) may use the root's devDependencies (vitest, playwright-core…).
    if (statSync(path).isDirectory()) return f === 'testing' ? [] : sources(path);
    return f.endsWith('.ts') && !/\.(unit|int)\.spec\.ts$/.test(f) ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

describe('workspace dependencies', () => {
  it('every package a workspace imports in production code is declared in its package.json', () => {
    const missing: string[] = [];
    for (const ws of workspaces) {
      const pkg = JSON.parse(readFileSync(join(ws, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      const declared = new Set([...Object.keys(pkg['dependencies'] ?? {}), ...Object.keys(pkg['devDependencies'] ?? {}), ...Object.keys(pkg['peerDependencies'] ?? {})]);
      for (const file of sources(join(ws, 'src'))) {
        for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
          const spec = m[1] ?? m[2]!;
          if (spec.startsWith('.') || spec.startsWith('node:')) continue;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!declared.has(name)) missing.push(`${relative(root, file)} imports ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(workspaces.length).toBeGreaterThanOrEqual(14);
  });
});
