import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createBus } from '@preflight/bus';
import { newEvent, sampleEvents } from '@preflight/events';
import { freePort } from '@preflight/local-infra';
import { collectRaw, eventually, testBusConfig, testLogger } from '@preflight/testkit';

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

  it('ignores other connectors\' outcomes, writes no dead letters of its own, and stops everything on the first Ctrl-C after a child was killed', async () => {
    const prefix = `start${randomBytes(4).toString('hex')}.`;
    const env = { ...process.env, TOPIC_PREFIX: prefix, API_PORT: String(await freePort()), CI: 'false', PREFLIGHT_SKIP_POSTGRES: '1' };
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=preflight-source', 'scripts/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const bus = createBus(testBusConfig(prefix), testLogger());
    try {
      await eventually('the demo registers its connectors', () => out.includes('Registering'), { timeoutMs: 120_000 });
      // Another connector's preflight finishes during the demo, and a poison record lands on the outcome topic.
      await bus.producer.start();
      const s = sampleEvents()['connector.validated'];
      await bus.producer.publish(newEvent('connector.validated', { ...s, status: 'READY', reason: null }, { producer: 'other@1', tenantId: 'other', connectorId: 'someone-else', correlationId: randomUUID(), actor: 'system:other' }));
      const raw = bus.kafka.producer();
      await raw.connect();
      await raw.send({ topic: bus.topics.of('connector.validated'), messages: [{ key: 'someone-else', value: Buffer.from('poison') }] });
      await raw.disconnect();
      await eventually('the demo finishes and keeps running', () => out.includes('press Ctrl-C'), { timeoutMs: 150_000 });
      expect(out).not.toContain('someone-else');
      expect(out).toMatch(/receipt: demo-files-customers-v2-\w+ → FAILED/);
      const dlq = await collectRaw(bus.kafka, [bus.topics.dlq(bus.topics.of('connector.validated'))]);
      const groups = (): string[] => dlq.records.map((r) => String(r.message.headers?.['dlq_consumer_group'])).sort();
      // Each platform consumer of the topic sets the poison record aside under its own group.
      await eventually('readiness and the projector dead-letter the poison record', () => groups().length === 2, { timeoutMs: 30_000 });
      expect(groups()).toEqual([`${prefix}preflight.projector`, `${prefix}preflight.readiness`]);

      const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
      expect(children.length).toBeGreaterThanOrEqual(5);
      process.kill(children[0]!, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      const t0 = Date.now();
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(30_000);
      const alive = children.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      expect(alive).toEqual([]);
      // The demo's watcher read the poison record too and wrote nothing.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(groups()).toHaveLength(2);
      await dlq.stop();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await bus.stop();
    }
  }, 300_000);
});
