/** `preflight incidents [--status open|resolved|all]`: the incident list the dashboard shows. */
import { ApiError } from './client.js';

export const INCIDENT_STATUSES = ['open', 'resolved', 'all'] as const;
export type IncidentStatusFilter = (typeof INCIDENT_STATUSES)[number];

export interface IncidentRow {
  incidentId: string;
  connectorId: string;
  kind: string;
  severity: string;
  status: 'open' | 'resolved';
  summary: string;
  openedAt: string;
  occurrences: number;
  lastSeenAt: string;
  resolvedAt?: string;
  resolution?: { reason: string; supersededBy: string | null };
}

export function incidentStatusFilter(value: string | undefined): IncidentStatusFilter {
  if (value === undefined) return 'open';
  if ((INCIDENT_STATUSES as readonly string[]).includes(value)) return value as IncidentStatusFilter;
  throw new ApiError(0, { message: `--status must be one of ${INCIDENT_STATUSES.join(', ')}, not "${value}"` });
}

/** One line per incident: what it is, how often it was seen, and how it ended if it did. */
export function formatIncidents(rows: readonly IncidentRow[], status: IncidentStatusFilter): string[] {
  const lines = [`${'INCIDENT'.padEnd(15)} ${'STATUS'.padEnd(9)} ${'SEV'.padEnd(4)} ${'KIND'.padEnd(16)} ${'SEEN'.padStart(4)}  ${'CONNECTOR'.padEnd(32)} SUMMARY`];
  for (const i of rows) {
    const ended = i.resolvedAt ? ` [resolved ${i.resolvedAt}${i.resolution ? `, ${i.resolution.reason.toLowerCase()}${i.resolution.supersededBy ? ` by ${i.resolution.supersededBy}` : ''}` : ''}]` : ` [last seen ${i.lastSeenAt}]`;
    lines.push(`${i.incidentId.padEnd(15)} ${i.status.padEnd(9)} ${i.severity.padEnd(4)} ${i.kind.padEnd(16)} ${String(i.occurrences).padStart(4)}  ${i.connectorId.padEnd(32)} ${i.summary}${ended}`);
  }
  lines.push(`${rows.length} ${status === 'all' ? '' : `${status} `}incident(s)`);
  return lines;
}
