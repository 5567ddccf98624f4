import { out, statusColor, type CommandContext } from '../command.js';

/** `preflight status [<connector>]`: one connector with its timeline (exit 1 when FAILED), or all of them. */
export async function run({ args, flags, client }: CommandContext): Promise<number> {
  const api = await client();
  if (args[0]) {
    const c = await api.call<{ connectorId: string; status: string; tenantId: string; sourceType: string; attempts: number; history: Array<{ at: string; eventType: string; status: string | null; summary: string }> }>('GET', `/api/connectors/${encodeURIComponent(args[0])}`);
    if (flags.json) out(JSON.stringify(c));
    else {
      out(`${c.connectorId}  ${statusColor(c.status)}  tenant ${c.tenantId}  ${c.sourceType}  ${c.attempts} attempt(s)`);
      for (const h of c.history.slice(-15)) out(`  ${h.at}  ${h.eventType.replace('connector.', '').padEnd(20)} ${(h.status ?? '').padEnd(10)} ${h.summary}`);
    }
    return c.status === 'FAILED' ? 1 : 0;
  }
  type Row = { connectorId: string; status: string; tenantId: string; sourceType: string; updatedAt: string };
  const list: { connectors: Row[] } = { connectors: [] };
  // The API pages on the server; the CLI walks every page so `status` still lists all.
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page: { connectors: Row[]; nextCursor: string | null } = await api.call('GET', `/api/connectors?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    list.connectors.push(...page.connectors);
    cursor = page.nextCursor;
  }
  if (flags.json) out(JSON.stringify(list));
  else {
    out(`${'CONNECTOR'.padEnd(40)} ${'STATE'.padEnd(18)} ${'TENANT'.padEnd(12)} ${'SOURCE'.padEnd(9)} UPDATED`);
    for (const c of list.connectors) out(`${c.connectorId.padEnd(40)} ${statusColor(c.status.padEnd(18))} ${c.tenantId.padEnd(12)} ${c.sourceType.padEnd(9)} ${c.updatedAt}`);
    out(`${list.connectors.length} connector(s)`);
  }
  return 0;
}
