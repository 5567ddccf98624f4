#!/usr/bin/env node
// The `preflight` CLI. From a build (`npm run build`, the container image) it runs the compiled
// dist/main.js in this process: plain node, no TypeScript at runtime. In a checkout whose sources
// are newer than that build (or that was never built) it runs src/main.ts through tsx instead, so
// an edit is never hidden behind a stale build.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/main.js', import.meta.url);
const src = new URL('../src/', import.meta.url);

function sourcesNewerThan(mtimeMs) {
  if (!existsSync(src)) return false;
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
      return e.isDirectory() ? walk(p) : e.name.endsWith('.ts') && statSync(p).mtimeMs > mtimeMs;
    });
  return walk(src);
}

// tsc -b leaves an output alone when its source was touched but not changed, and records the
// check in the build info: the newer of the two is when the build was last current.
const buildInfo = new URL('../tsconfig.tsbuildinfo', import.meta.url);
const builtAt = () => Math.max(statSync(dist).mtimeMs, existsSync(buildInfo) ? statSync(buildInfo).mtimeMs : 0);

if (existsSync(dist) && !sourcesNewerThan(builtAt())) {
  await import(dist.href);
} else {
  const main = fileURLToPath(new URL('main.ts', src));
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--import', tsx, '--conditions=preflight-source', main, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
