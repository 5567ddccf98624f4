// `preflight update`, `preflight deregister` and `preflight gate`: the connector lifecycle and the
// release gate from the command line. Each returns the exit code; API errors propagate as ApiError
// (exit 2 in main).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApiError, type Client } from '../client.js';

export interface CommandIo {
  json: boolean;
  out: (line: string) => void;
}

interface Change {
  path: string;
  kind: string;
  breaking: boolean;
  detail: string;
}

/** `preflight update <connector> <update.yaml>`: the YAML holds config, contract|contractFile, environment, owner, labels, reason, autoPreflight. */
export async function updateCommand(client: Client, args: string[], io: CommandIo): Promise<number> {
  const [id, file] = args;
  if (!id || !file) throw new ApiError(0, { message: 'usage: preflight update <connector> <update.yaml>  (config, contract or contractFile, environment, owner, labels, reason, autoPreflight)' });
  const body = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  if (typeof body['contractFile'] === 'string') {
    body['contract'] = readFileSync(resolve(dirname(file), body['contractFile']), 'utf8');
    delete body['contractFile'];
  }
  const r = await client.call<{ connectorId: string; changed: string[]; changelog: { from: string; to: string; breaking: boolean; changes: Change[] } | null; attemptId: string | null; approvalRequired: boolean }>('PATCH', `/api/connectors/${encodeURIComponent(id)}`, body);
  if (io.json) {
    io.out(JSON.stringify(r));
    return 0;
  }
  if (r.changed.length === 0) {
    io.out(`${r.connectorId}: nothing changed`);
    return 0;
  }
  io.out(`updated ${r.connectorId}: ${r.changed.join(', ')}${r.attemptId ? ` (preflight ${r.attemptId} started${r.approvalRequired ? '; a breaking change in production: a security admin must approve it' : ''})` : ' (not preflighted: run preflight handshake)'}`);
  const log = r.changelog;
  if (log) {
    io.out(`contract ${log.from} → ${log.to}: ${log.changes.length} change(s), ${log.breaking ? 'BREAKING' : 'non-breaking'}`);
    for (const c of log.changes) io.out(`  ${(c.breaking ? 'breaking' : 'ok').padEnd(8)} ${c.kind.padEnd(22)} ${c.path.padEnd(32)} ${c.detail}`);
  }
  return 0;
}

/** `preflight deregister <connector> [reason…]` */
export async function deregisterCommand(client: Client, args: string[], io: CommandIo): Promise<number> {
  const [id, ...words] = args;
  if (!id) throw new ApiError(0, { message: 'usage: preflight deregister <connector> [reason…]' });
  const reason = words.join(' ');
  const r = await client.call<{ connectorId: string; eventId: string | null; retired: { at: string; actor: string } }>('DELETE', `/api/connectors/${encodeURIComponent(id)}${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`);
  io.out(io.json ? JSON.stringify(r) : r.eventId ? `deregistered ${r.connectorId}; its history stays readable: preflight status ${r.connectorId}` : `${r.connectorId} was already deregistered at ${r.retired.at} by ${r.retired.actor}`);
  return 0;
}

interface GateRow {
  connector: string;
  dataset: string;
  connectorStatus: string;
  schemaAdherence: string;
  dataQuality: string;
  pass: boolean;
  lastCheckpoint: { attemptId: string; at: string } | null;
  evidence: { receipt: string };
  failing: Array<{ expectation: string; column: string | null; message: string }>;
}

/** `preflight gate <dataset>`: exit 0 pass, 1 fail (the failing expectations named), 2 usage or API error. */
export async function gateCommand(client: Client, args: string[], io: CommandIo): Promise<number> {
  const [dataset] = args;
  if (!dataset || args.length > 1) throw new ApiError(0, { message: 'usage: preflight gate <dataset>  (a contract dataset, or <connector>:<dataset>)' });
  const g = await client.call<{ dataset: string; pass: boolean; rows: GateRow[]; reasons: string[] }>('GET', `/api/release-readiness/${encodeURIComponent(dataset)}`);
  if (io.json) io.out(JSON.stringify(g));
  else {
    io.out(`${g.pass ? 'PASS' : 'FAIL'} ${g.dataset}: ${g.rows.length} connector(s) serve it`);
    for (const r of g.rows) {
      io.out(`  ${r.pass ? 'pass' : 'FAIL'}  ${r.connector}  state ${r.connectorStatus}  schema ${r.schemaAdherence}  quality ${r.dataQuality}  checkpoint ${r.lastCheckpoint ? `${r.lastCheckpoint.attemptId} at ${r.lastCheckpoint.at}` : 'none'}  evidence ${r.evidence.receipt}`);
      for (const f of r.failing) io.out(`        failing ${f.expectation}${f.column ? ` (${f.column})` : ''}: ${f.message}`);
    }
    if (!g.pass) for (const reason of g.reasons) io.out(`  why: ${reason}`);
  }
  return g.pass ? 0 : 1;
}
