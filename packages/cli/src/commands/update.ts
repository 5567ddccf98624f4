import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ContractChangelog } from '@preflight/contracts';
import { ApiError } from '../client.js';
import { out, type CommandContext } from '../command.js';

/**
 * `preflight update <connector> <update.yaml>`: the YAML holds config, contract|contractFile,
 * environment, owner, labels, reason, autoPreflight; the contract changelog is shown.
 */
export async function run({ args, flags, client }: CommandContext): Promise<number> {
  const [id, file] = args;
  if (!id || !file) throw new ApiError(0, { message: 'usage: preflight update <connector> <update.yaml>  (config, contract or contractFile, environment, owner, labels, reason, autoPreflight)' });
  const body = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  if (typeof body['contractFile'] === 'string') {
    body['contract'] = readFileSync(resolve(dirname(file), body['contractFile']), 'utf8');
    delete body['contractFile'];
  }
  const r = await (await client()).call<{ connectorId: string; changed: string[]; changelog: ContractChangelog | null; attemptId: string | null; approvalRequired: boolean }>('PATCH', `/api/connectors/${encodeURIComponent(id)}`, body);
  if (flags.json) {
    out(JSON.stringify(r));
    return 0;
  }
  if (r.changed.length === 0) {
    out(`${r.connectorId}: nothing changed`);
    return 0;
  }
  out(`updated ${r.connectorId}: ${r.changed.join(', ')}${r.attemptId ? ` (preflight ${r.attemptId} started${r.approvalRequired ? '; a breaking change in production: a security admin must approve it' : ''})` : ' (not preflighted: run preflight handshake)'}`);
  const log = r.changelog;
  if (log) {
    out(`contract ${log.from} → ${log.to}: ${log.changes.length} change(s), ${log.breaking ? 'BREAKING' : 'non-breaking'}`);
    for (const c of log.changes) out(`  ${(c.breaking ? 'breaking' : 'ok').padEnd(8)} ${c.kind.padEnd(22)} ${c.path.padEnd(32)} ${c.detail}`);
  }
  return 0;
}
