import { describe, expect, it } from 'vitest';
import { formatIncidents, incidentStatusFilter, type IncidentRow } from './incidents.js';

describe('preflight incidents', () => {
  it('--status defaults to open and names the accepted values when wrong', () => {
    expect(incidentStatusFilter(undefined)).toBe('open');
    expect(incidentStatusFilter('resolved')).toBe('resolved');
    expect(() => incidentStatusFilter('closed')).toThrow('--status must be one of open, resolved, all, not "closed"');
    expect(() => incidentStatusFilter('')).toThrow('not ""');
  });

  it('shows open and resolved incidents with their occurrences and how they ended', () => {
    const open: IncidentRow = { incidentId: 'INC-AAA', connectorId: 'acme.crm', kind: 'SCHEMA_MISMATCH', severity: 'V2', status: 'open', summary: 'crm: country missing', openedAt: '2026-11-23T10:00:00Z', occurrences: 2, lastSeenAt: '2026-11-23T10:05:00Z' };
    const done: IncidentRow = { ...open, incidentId: 'INC-BBB', status: 'resolved', occurrences: 1, resolvedAt: '2026-11-23T11:00:00Z', resolution: { reason: 'SUPERSEDED', supersededBy: 'INC-AAA' } };
    const lines = formatIncidents([open, done], 'all');
    expect(lines[1]).toMatch(/^INC-AAA\s+open\s+V2\s+SCHEMA_MISMATCH\s+2\s+acme\.crm\s+crm: country missing \[last seen 2026-11-23T10:05:00Z\]$/);
    expect(lines[2]).toMatch(/^INC-BBB\s+resolved .*\[resolved 2026-11-23T11:00:00Z, superseded by INC-AAA\]$/);
    expect(lines.at(-1)).toBe('2 incident(s)');
    expect(formatIncidents([], 'open')).toEqual([expect.stringContaining('INCIDENT'), '0 open incident(s)']);
  });
});
