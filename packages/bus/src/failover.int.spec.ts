import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newEvent, type ConnectorEvent } from '@preflight/events';
import { eventually } from '@preflight/testkit';
import { groupTimings } from './group.js';
import { testBus } from './testing/test-bus.js';

const script = fileURLToPath(new URL('./testing/crash-consumer.ts', import.meta.url));
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=preflight-source', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve(child)));
}

const registered = (i: number, tag: string): ConnectorEvent =>
  newEvent('connector.registered', {
    spec: { name: `n${i}`, sourceType: 'files', configJson: '{}', contractYaml: null, environment: 'development', owner: null, labels: {} },
    autoPreflight: false,
  }, { producer: 'test@1', tenantId: 't', connectorId: `c${i}`, correlationId: `${tag}${i}`, actor: 'system:test' });

/**
 * Two instances of a service in one group; one is stopped; how long until events on every
 * partition (so also the stopped one's) are handled by the other. Prints the figure.
 */
async function failover(how: 'SIGKILL' | 'SIGTERM'): Promise<number> {
  const bus = await testBus({ partitions: 4 });
  const dir = mkdtempSync(join(tmpdir(), 'failover-'));
  const env = { PREFIX: bus.topics.prefix, GROUP: `${bus.topics.prefix}failover`, DEDUPE_FILE: join(dir, 'dedupe.log'), EFFECTS_FILE: join(dir, 'effects.log'), DELAY_MS: '1' };
  const a = await startChild({ ...env, DEDUPE_FILE: join(dir, 'a.dedupe') });
  const b = await startChild({ ...env, DEDUPE_FILE: join(dir, 'b.dedupe') });
  // Both members hold partitions once a first round is handled on all of them.
  const warm = Array.from({ length: 24 }, (_, i) => registered(i, 'w'));
  await bus.producer.publish(...warm);
  await eventually('both instances handle the first round', () => lines(env.EFFECTS_FILE).length >= warm.length, { timeoutMs: 60_000 });
  const stopped = new Promise((r) => b.once('exit', r));
  b.kill(how);
  const t0 = Date.now();
  const after = Array.from({ length: 24 }, (_, i) => registered(i, 'x'));
  await bus.producer.publish(...after);
  await eventually('the survivor handles every partition', () => lines(env.EFFECTS_FILE).length >= warm.length + after.length, { timeoutMs: 60_000, intervalMs: 20 });
  const ms = Date.now() - t0;
  await stopped;
  a.kill('SIGTERM');
  await new Promise((r) => a.once('exit', r));
  await bus.stop();
  process.stdout.write(`failover after ${how} of one of two instances: ${(ms / 1000).toFixed(1)} s (session timeout ${groupTimings().sessionTimeout} ms)\n`);
  return ms;
}

describe('failover of a consumer group on a real broker', () => {
  it('kill -9 of one of two instances: the other handles its partitions within seconds (the session timeout, not 30 s)', async () => {
    const ms = await failover('SIGKILL');
    expect(ms).toBeLessThan(groupTimings().sessionTimeout + 8_000);
  });

  it('a clean stop leaves the group: the other instance takes over without waiting for the session timeout', async () => {
    const ms = await failover('SIGTERM');
    expect(ms).toBeLessThan(groupTimings().sessionTimeout);
  });

  it('a handler slower than the session timeout does not get a live member evicted', async () => {
    const bus = await testBus({ partitions: 1 });
    let calls = 0;
    let joins = 0;
    const consumer = bus.consumer({
      groupId: `${bus.topics.prefix}slow`,
      handlers: {
        'connector.registered': async () => {
          calls++;
          await new Promise((r) => setTimeout(r, groupTimings().sessionTimeout + 3_000));
        },
      },
    });
    consumer.consumer.on(consumer.consumer.events.GROUP_JOIN, () => void joins++);
    await consumer.start();
    await bus.producer.publish(registered(1, 's'));
    await eventually('handled', () => consumer.stats.handled === 1, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 2_000));
    expect({ calls, joins, duplicates: consumer.stats.duplicates }).toEqual({ calls: 1, joins: 1, duplicates: 0 });
    await bus.stop();
  });
});
