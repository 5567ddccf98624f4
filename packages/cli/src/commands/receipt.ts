import { ApiError } from '../client.js';
import { out, type CommandContext } from '../command.js';
import { receiptToJunit } from '../junit.js';

/** `preflight receipt <connector>`: the last receipt as YAML, JSON or JUnit; exit 0 only when READY. */
export async function run({ args, flags, client }: CommandContext): Promise<number> {
  if (!args[0]) throw new ApiError(0, { message: 'usage: preflight receipt <connector>' });
  // One structured answer: the receipt as data (for --junit and the exit code) and as the
  // signed-off YAML text it is printed as.
  const r = await (await client()).call<{ status: 'READY' | 'FAILED'; yaml: string; receipt: Parameters<typeof receiptToJunit>[0] }>('GET', `/api/connectors/${encodeURIComponent(args[0])}/receipt`);
  if (flags.json) out(JSON.stringify(r));
  else if (flags.junit) out(receiptToJunit(r.receipt).trimEnd());
  else out(r.yaml.trimEnd());
  return r.status === 'READY' ? 0 : 1;
}
