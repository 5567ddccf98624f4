import { readFileSync } from 'node:fs';
import type { DataContract } from '@preflight/contracts';
import { ApiError } from '../client.js';
import { color, out, tty, type CommandContext } from '../command.js';

// Loaded only for `contract diff`, so other commands (and --help) start without the contract parser.
async function readContract(file: string): Promise<DataContract> {
  const { parseContract } = await import('@preflight/contracts');
  try {
    return parseContract(readFileSync(file, 'utf8'));
  } catch (e) {
    const issues = (e as { issues?: Array<{ field: string; message: string }> }).issues?.map((i) => `\n  - ${i.field}: ${i.message}`).join('') ?? '';
    throw new ApiError(0, { message: `${file}: ${(e as Error).message.split(':')[0] ?? 'invalid'}${issues}` });
  }
}

/** For a contract change in CI: exit 1 when any change is breaking, so a pipeline can ask for approval. */
export async function run({ args, flags }: CommandContext): Promise<number> {
  const [sub, before, after] = args;
  if (sub !== 'diff' || !before || !after) throw new ApiError(0, { message: 'usage: preflight contract diff <old.yaml> <new.yaml>' });
  const { contractChangelog } = await import('@preflight/contracts');
  const log = contractChangelog(await readContract(before), await readContract(after));
  if (flags.json) out(JSON.stringify(log));
  else {
    out(`contract ${log.from} → ${log.to}: ${log.changes.length} change(s), ${log.breaking ? color(31, 'BREAKING') : color(32, 'non-breaking')}`);
    for (const c of log.changes) out(`  ${(c.breaking ? color(31, 'breaking') : 'ok').padEnd(tty ? 17 : 8)} ${c.kind.padEnd(22)} ${c.path.padEnd(32)} ${c.detail}`);
  }
  return log.breaking ? 1 : 0;
}
