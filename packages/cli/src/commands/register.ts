import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiError } from '../client.js';
import { out, type CommandContext } from '../command.js';

/** `preflight register <spec.yaml>`: the spec as the API's registration body (contractFile read beside it). */
export async function run({ args, flags, client }: CommandContext): Promise<number> {
  const file = args[0];
  if (!file) throw new ApiError(0, { message: 'usage: preflight register <spec.yaml>' });
  const spec = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (typeof spec['contractFile'] === 'string') {
    spec['contract'] = readFileSync(resolve(dirname(file), spec['contractFile']), 'utf8');
    delete spec['contractFile'];
  }
  const r = await (await client()).call<{ connectorId: string; attemptId: string | null }>('POST', '/api/connectors', spec);
  out(flags.json ? JSON.stringify(r) : `registered ${r.connectorId}${r.attemptId ? ` (preflight ${r.attemptId} started)` : ''}`);
  return 0;
}
