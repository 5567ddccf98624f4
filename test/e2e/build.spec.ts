import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '@preflight/local-infra';
import { eventually, randomPrefix } from '@preflight/testkit';

// What an ops team deploys: `npm run build`, then every service and the CLI on plain node from
// dist/, with no TypeScript runner anywhere (no tsx, no `source` condition).
const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];

/** The environment of a production process: no NODE_OPTIONS or loaders inherited from vitest. */
function plainEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'warn', ...extra };
}

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stdout + r.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))));
});

describe('compiled artifacts', () => {
  it('every workspace has its compiled entry point', () => {
    for (const ws of ['core', 'events', 'bus', 'connectors', 'contracts', 'local-infra', 'testkit', 'cli'].map((n) => `packages/${n}`).concat(['handshake', 'schema-validator', 'credential-auditor', 'readiness', 'projector', 'schema-registry'].map((n) => `services/${n}`))) {
      expect(existsSync(join(root, ws, 'dist', 'index.js')), ws).toBe(true);
    }
    expect(existsSync(join(root, 'services/projector/dist/dashboard/static/index.html'))).toBe(true);
  });

  it('the CLI answers --help from dist on plain node', () => {
    const started = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'packages/cli/dist/main.js'), '--help'], { env: plainEnv({}), encoding: 'utf8' });
    const ms = performance.now() - started;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('preflight register <spec.yaml>');
    // A loose bound on a shared CI box; `preflight --help` takes ~0.1-0.4 s on an idle one.
    expect(ms).toBeLessThan(3_000);
  });

  it('a pipeline service runs from dist on plain node and reports its consumer on /readyz', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(root, 'services/credential-auditor/dist/main.js')], {
      cwd: root,
      env: plainEnv({ KAFKA_BROKERS: inject('kafkaBrokers'), SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'), TOPIC_PREFIX: randomPrefix('dist'), HEALTH_PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const ready = await eventually('the credential auditor ready on /readyz', async () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      return r.status === 200 ? ((await r.json()) as { status: string; consumers: Array<{ groupId: string; state: string }> }) : undefined;
    }, { timeoutMs: 90_000, intervalMs: 250 });
    expect(ready.status).toBe('ready');
    expect(ready.consumers).toEqual([expect.objectContaining({ state: 'joined' })]);
    const live = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(live.status).toBe(200);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  });
});
