import { ApiError } from '../client.js';
import { out, type CommandContext } from '../command.js';

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
export async function run({ args, flags, client }: CommandContext): Promise<number> {
  const [dataset] = args;
  if (!dataset || args.length > 1) throw new ApiError(0, { message: 'usage: preflight gate <dataset>  (a contract dataset, or <connector>:<dataset>)' });
  const g = await (await client()).call<{ dataset: string; pass: boolean; rows: GateRow[]; reasons: string[] }>('GET', `/api/release-readiness/${encodeURIComponent(dataset)}`);
  if (flags.json) out(JSON.stringify(g));
  else {
    out(`${g.pass ? 'PASS' : 'FAIL'} ${g.dataset}: ${g.rows.length} connector(s) serve it`);
    for (const r of g.rows) {
      out(`  ${r.pass ? 'pass' : 'FAIL'}  ${r.connector}  state ${r.connectorStatus}  schema ${r.schemaAdherence}  quality ${r.dataQuality}  checkpoint ${r.lastCheckpoint ? `${r.lastCheckpoint.attemptId} at ${r.lastCheckpoint.at}` : 'none'}  evidence ${r.evidence.receipt}`);
      for (const f of r.failing) out(`        failing ${f.expectation}${f.column ? ` (${f.column})` : ''}: ${f.message}`);
    }
    if (!g.pass) for (const reason of g.reasons) out(`  why: ${reason}`);
  }
  return g.pass ? 0 : 1;
}
