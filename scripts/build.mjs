#!/usr/bin/env node
// `npm run build`: compiles every workspace to its dist/ (tsc -b over the project references) and
// copies the files that are not TypeScript but that the code loads next to itself at runtime
// (the dashboard's static files). Plain JavaScript, so a build needs no TypeScript runner.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const started = Date.now();
// The workspaces only: tests, scripts and benchmarks are type-checked by `npm run typecheck`
// but never shipped.
const workspaces = ['packages', 'services'].flatMap((d) => readdirSync(join(root, d)).map((n) => join(root, d, n)).filter((p) => existsSync(join(p, 'tsconfig.json'))));
const r = spawnSync(process.execPath, [tsc, '-b', ...workspaces], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

/** Runtime assets beside the sources: `<workspace>/src/<path>` → `<workspace>/dist/<path>`. */
const ASSETS = [['services/projector', 'dashboard/static']];
for (const [ws, path] of ASSETS) {
  const from = join(root, ws, 'src', path);
  if (existsSync(from)) cpSync(from, join(root, ws, 'dist', path), { recursive: true });
}
// `--image`: what a container needs and nothing else — no sources, specs, maps or declarations
// (the container build calls it; never use it in a checkout, it deletes src/).
if (process.argv.includes('--image')) {
  const prune = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) prune(p);
      else if (/\.(unit|int)\.spec\.|\.map$|\.d\.ts$/.test(e.name)) rmSync(p);
    }
  };
  for (const ws of workspaces) {
    if (existsSync(join(ws, 'dist'))) prune(join(ws, 'dist'));
    for (const f of ['src', 'tsconfig.json', 'tsconfig.tsbuildinfo']) rmSync(join(ws, f), { recursive: true, force: true });
  }
}
process.stdout.write(`built every workspace to dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
