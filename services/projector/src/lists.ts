import { paginate, type Page } from './paging.js';
import type { AlertView, IncidentView } from './state.js';

/**
 * Server-side filter, sort and cursor paging for `/api/incidents` and `/api/alerts`, the same
 * keyset paging as `/api/connectors`: a page costs the same wherever it is, and the dashboard and
 * agents never load every incident of every connector at once.
 */
export const INCIDENT_SORTS = ['openedAt', 'lastSeenAt', 'severity', 'connectorId'] as const;
export const ALERT_SORTS = ['raisedAt', 'severity', 'connectorId'] as const;
export type IncidentSort = (typeof INCIDENT_SORTS)[number];
export type AlertSort = (typeof ALERT_SORTS)[number];

export interface ListQuery<S extends string> {
  tenant?: string;
  connector?: string;
  severity?: string;
  kind?: string;
  limit?: string;
  cursor?: string;
  sort?: S;
  order?: 'asc' | 'desc';
}

const DEFAULT_LIMIT = 100;

/** JSON Schema of the shared query parameters; the route adds its own (`status` on incidents). */
export function listQuerySchema(sorts: readonly string[], newest: string): Record<string, unknown> {
  return {
    tenant: { type: 'string' },
    connector: { type: 'string', description: 'one connector id' },
    severity: { type: 'string' },
    kind: { type: 'string' },
    // A string, as on /api/connectors: query values are not coerced, so a typo is reported.
    limit: { type: 'string', pattern: '^(500|[1-4][0-9]{2}|[1-9][0-9]?)$', description: `page size, 1-500 (default ${DEFAULT_LIMIT})` },
    cursor: { type: 'string', maxLength: 1000, description: 'nextCursor of the previous page, as it came' },
    sort: { type: 'string', enum: sorts, default: newest },
    order: { type: 'string', enum: ['asc', 'desc'], description: `default: newest first for ${newest}, else ascending` },
  };
}

function matches(x: { tenantId: string; connectorId: string; severity: string; kind: string }, q: ListQuery<string>): boolean {
  return (!q.tenant || x.tenantId === q.tenant) && (!q.connector || x.connectorId === q.connector) && (!q.severity || x.severity === q.severity) && (!q.kind || x.kind === q.kind);
}

export function pageIncidents(all: IncidentView[], q: ListQuery<IncidentSort>): Page<IncidentView> {
  const sort = q.sort ?? 'openedAt';
  const order = q.order ?? (sort === 'openedAt' || sort === 'lastSeenAt' ? 'desc' : 'asc');
  return paginate(all.filter((i) => matches(i, q)), { limit: Number(q.limit ?? DEFAULT_LIMIT), sort, order, cursor: q.cursor }, (i, k) => i[k], (i) => i.incidentId);
}

export function pageAlerts(all: AlertView[], q: ListQuery<AlertSort>): Page<AlertView> {
  const sort = q.sort ?? 'raisedAt';
  const order = q.order ?? (sort === 'raisedAt' ? 'desc' : 'asc');
  return paginate(all.filter((a) => matches(a, q)), { limit: Number(q.limit ?? DEFAULT_LIMIT), sort, order, cursor: q.cursor }, (a, k) => a[k], (a) => a.alertId);
}
