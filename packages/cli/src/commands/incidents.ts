import { out, type CommandContext } from '../command.js';
import { formatIncidents, incidentStatusFilter, type IncidentRow } from '../incidents.js';

/** `preflight incidents [--status open|resolved|all]`: every incident of that status, walking the API's pages. */
export async function run({ flags, client }: CommandContext): Promise<number> {
  const status = incidentStatusFilter(flags.status);
  const api = await client();
  const incidents: IncidentRow[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ status, limit: '500', ...(cursor ? { cursor } : {}) });
    const page: { incidents: IncidentRow[]; nextCursor?: string | null } = await api.call('GET', `/api/incidents?${q.toString()}`);
    incidents.push(...page.incidents);
    cursor = page.nextCursor ?? null;
  } while (cursor);
  out(flags.json ? JSON.stringify({ incidents }) : formatIncidents(incidents, status).join('\n'));
  return 0;
}
