import { ApiError, waitForOperation, type Client, type Operation } from '../client.js';
import { color, out, statusColor, tty, type CommandContext, type Flags } from '../command.js';

/** `preflight handshake <connector>`: starts a preflight and follows it; the exit code is the operation's result. */
export async function run({ args, flags, client }: CommandContext): Promise<number> {
  if (!args[0]) throw new ApiError(0, { message: 'usage: preflight handshake <connector>' });
  return handshake(await client(), args[0], flags);
}

async function handshake(client: Client, id: string, flags: Flags): Promise<number> {
  const first = await client.call<Operation>('POST', `/api/connectors/${encodeURIComponent(id)}/preflight`, { reason: 'requested from the CLI' });
  if (!flags.wait) {
    out(flags.json ? JSON.stringify(first) : `operation ${first.id} ${first.status}; poll ${flags.api}${first.statusUrl}`);
    return 0;
  }
  const spin = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const { op, done } = await waitForOperation(client, id, first, {
    timeoutMs: flags.timeoutS * 1000,
    onTick: (t) => {
      const line = `${spin[i++ % spin.length]} preflight ${id}: ${t.status} (${t.lastEvent?.replace('connector.', '') ?? '…'}) ${(t.elapsedMs / 1000).toFixed(1)}s`;
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (!flags.json) process.stderr.write(`${line}\n`);
    },
  });
  if (!done) {
    if (tty) process.stderr.write('\n');
    process.stderr.write(`gave up waiting after ${flags.timeoutS} s; operation ${op.id} is still ${op.status}\n`);
    return 3;
  }
  if (tty) process.stderr.write('\r\x1b[2K');
  if (flags.json) out(JSON.stringify(op));
  if (op.error) {
    if (!flags.json) out(`${color(31, 'FAILED')} ${id}: ${op.error.code}: ${op.error.message}`);
    return 1;
  }
  const r = op.result!;
  if (!flags.json) out(`${statusColor(r.status)} ${id}${r.reason ? ` (${r.reason})` : ''} — validated by ${r.validatedBy}. Receipt: preflight receipt ${id}`);
  return r.status === 'READY' ? 0 : 1;
}
