import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestPlatform, JWT_SECRET, type TestPlatform } from '../support/platform.js';

const bin = fileURLToPath(new URL('../../packages/cli/bin/preflight.mjs', import.meta.url));
let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform();
}, 120_000);
afterAll(async () => p?.stop());

/** Runs the real `preflight` binary, as a script or a person would. */
function cli(args: string[], token?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--api', p.url], { env: { ...process.env, PREFLIGHT_JWT_SECRET: JWT_SECRET, ...(token ? { PREFLIGHT_TOKEN: token } : {}) }, cwd: tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('preflight CLI', () => {
  it('register → handshake (progress, exit 0 on READY) → status → receipt, human and --json', async () => {
    const token = await p.token('tenant_data_engineer', 'acme', 'cli-user');
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    writeFileSync(join(dir, 'contract.yaml'), p.contract('customers.odcs.yaml'));
    writeFileSync(join(dir, 'good.yaml'), `name: crm\nsourceType: files\nconfig:\n  path: ${p.demoDir}\ncontractFile: contract.yaml\nenvironment: development\nautoPreflight: false\n`);
    const reg = await cli(['register', join(dir, 'good.yaml')], token);
    expect(reg).toMatchObject({ code: 0, stdout: 'registered acme.crm\n' });
    // The projector folds the registration asynchronously; handshake retries until it is known.
    let hs = await cli(['handshake', 'acme.crm'], token);
    for (let i = 0; hs.code === 2 && /not found/.test(hs.stderr) && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250));
      hs = await cli(['handshake', 'acme.crm'], token);
    }
    expect(hs.code).toBe(0);
    expect(hs.stdout).toMatch(/^READY acme\.crm — validated by policy:auto-approve/);
    expect(hs.stderr).toMatch(/preflight acme\.crm: \w+/); // the progress line
    const status = await cli(['status'], token);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/acme\.crm\s+READY/);
    const json = JSON.parse((await cli(['status', 'acme.crm', '--json'], token)).stdout) as { status: string };
    expect(json.status).toBe('READY');
    const receipt = await cli(['receipt', 'acme.crm'], token);
    expect(receipt.code).toBe(0);
    expect(receipt.stdout).toMatch(/^status: READY$/m);
    expect(receipt.stdout).toMatch(/^schema_check:$/m);
  });

  it('exits non-zero for a FAILED preflight, and explains API errors without a stack', async () => {
    const token = await p.token('platform_admin', 'acme');
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    writeFileSync(join(dir, 'bad.yaml'), `name: crm-v2\nsourceType: files\nconfig:\n  path: ${p.demoDir}\ncontract: |\n${p.contract('customers-drifted.odcs.yaml').replace(/^/gm, '  ')}\nautoPreflight: false\n`);
    expect((await cli(['register', join(dir, 'bad.yaml')], token)).code).toBe(0);
    let hs = await cli(['handshake', 'acme.crm-v2', '--json'], token);
    for (let i = 0; hs.code === 2 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250));
      hs = await cli(['handshake', 'acme.crm-v2', '--json'], token);
    }
    expect(hs.code).toBe(1);
    expect(JSON.parse(hs.stdout)).toMatchObject({ done: true, result: { status: 'FAILED', reason: expect.stringMatching(/^SCHEMA_MISMATCH/) } });
    writeFileSync(join(dir, 'invalid.yaml'), 'name: "bad name"\nsourceType: oracle\n');
    const invalid = await cli(['register', join(dir, 'invalid.yaml')], token);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/HTTP 400 VALIDATION: .*\n {2}- name: .*\n {2}- sourceType: must be one of/);
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
    const noAuth = await cli(['status'], 'garbage');
    expect(noAuth).toMatchObject({ code: 2 });
    expect(noAuth.stderr).toMatch(/HTTP 401 UNAUTHORIZED/);
    const topics = await cli(['topics'], token);
    expect(topics.stdout).toMatch(/connector\.validated\s+\d+/);
  });

  it('mints a development token and prints usage', async () => {
    const t = await cli(['token', '--role', 'security_admin', '--tenant', 'acme']);
    expect(t.code).toBe(0);
    expect(t.stdout.trim().split('.')).toHaveLength(3);
    expect((await cli(['token', '--role', 'king'])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
    expect((await cli(['help'])).stdout).toMatch(/preflight handshake <connector>/);
  });
});
