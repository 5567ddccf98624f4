import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isRunning, stopChildren } from './processes.js';

const node = (code: string): ChildProcess => spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
const started = (c: ChildProcess): Promise<void> => new Promise((r) => c.stdout!.once('data', () => r()));

describe('stopChildren', () => {
  it('does not wait for a child that was killed by a signal, and stops the others', async () => {
    const dead = node('process.stdout.write("up"); setInterval(() => {}, 1000)');
    const alive = node('process.stdout.write("up"); setInterval(() => {}, 1000)');
    await Promise.all([started(dead), started(alive)]);
    dead.kill('SIGKILL');
    await new Promise((r) => dead.once('exit', r));
    expect(dead.exitCode).toBeNull();
    expect(isRunning(dead)).toBe(false);
    const t0 = Date.now();
    expect(await stopChildren([dead, alive], 10_000)).toEqual({ killed: 0 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(alive.signalCode).toBe('SIGTERM');
  });

  it('is bounded: a child that ignores SIGTERM is killed after the grace period', async () => {
    const stubborn = node('process.on("SIGTERM", () => {}); process.stdout.write("up"); setInterval(() => {}, 1000)');
    await started(stubborn);
    const t0 = Date.now();
    expect(await stopChildren([stubborn], 500)).toEqual({ killed: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(stubborn.signalCode).toBe('SIGKILL');
  });
});
