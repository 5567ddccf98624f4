import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from '@preflight/local-infra';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The README's first command, as a newcomer runs it (against this run's broker and registry). */
describe('npm start', () => {
  it('runs the demo: one file connector READY, one FAILED on a schema mismatch, receipts printed', async () => {
    const env = { ...process.env, TOPIC_PREFIX: `start${randomBytes(4).toString('hex')}.`, API_PORT: String(await freePort()), CI: 'true', PREFLIGHT_SKIP_POSTGRES: '1' };
    const child = spawn('npm', ['start', '--', '--once'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(out).toMatch(/receipt: demo-files-customers-\w+ → READY/);
    expect(out).toMatch(/receipt: demo-files-customers-v2-\w+ → FAILED/);
    expect(out).toMatch(/reason: SCHEMA_MISMATCH/);
    expect(out).toMatch(/kind: MISSING_FIELD\n\s+dataset: customers\n\s+field: loyalty_tier/);
    expect(out).toContain('What to look at next');
    expect(out).toContain('Demo finished as expected.');
    expect(code).toBe(0);
  }, 180_000);
});
