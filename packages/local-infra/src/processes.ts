import type { ChildProcess } from 'node:child_process';

/** Whether a child process is still running: one killed by a signal keeps `exitCode` null. */
export function isRunning(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

/**
 * SIGTERM to every child still running, then SIGKILL to those still there after `graceMs`, so a
 * stop is bounded whatever a child does. Children that already exited (also by a signal) are not
 * waited for.
 */
export async function stopChildren(list: readonly ChildProcess[], graceMs = 15_000): Promise<{ killed: number }> {
  const running = list.filter(isRunning);
  const exited = running.map((c) => new Promise<void>((r) => (isRunning(c) ? c.once('exit', () => r()) : r())));
  for (const c of running) c.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
  let killed = 0;
  if ((await Promise.race([Promise.all(exited), deadline])) === 'late') {
    for (const c of running.filter(isRunning)) {
      c.kill('SIGKILL');
      killed++;
    }
    await Promise.all(exited);
  }
  clearTimeout(timer);
  return { killed };
}
