import { describe, expect, it } from 'vitest';
import { isPreflightError } from '@preflight/core';
import { pageAlerts, pageIncidents } from './lists.js';
import type { AlertView, IncidentView } from './state.js';

const incident = (i: number): IncidentView => ({
  status: 'open',
  incidentId: `inc-${String(i).padStart(4, '0')}`,
  connectorId: `c${i % 7}`,
  tenantId: i % 2 === 0 ? 'acme' : 'globex',
  kind: i % 3 === 0 ? 'QUALITY' : 'SCHEMA_MISMATCH',
  severity: i % 5 === 0 ? 'V3' : 'V2',
  summary: `problem ${i}`,
  // Ties on purpose: ten incidents share each minute, so the id decides between them.
  openedAt: `2026-01-01T00:${String(Math.floor(i / 10)).padStart(2, '0')}:00.000Z`,
  attemptId: `a${i}`,
  delivery: null,
  occurrences: 1,
  lastSeenAt: `2026-01-02T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
  lastAttemptId: `a${i}`,
});
const alert = (i: number): AlertView => ({ alertId: `al-${i}`, connectorId: `c${i % 3}`, tenantId: 'acme', kind: 'UNREACHABLE', severity: i % 2 ? 'P1' : 'P2', summary: 's', raisedAt: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`, attemptId: `a${i}` });

function walk<T>(page: (cursor: string | undefined) => { items: T[]; nextCursor: string | null }): { items: T[]; pages: number } {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const p = page(cursor);
    items.push(...p.items);
    cursor = p.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { items, pages };
}

describe('incident and alert lists (server-side filter, sort, cursor pages)', () => {
  const incidents = Array.from({ length: 237 }, (_, i) => incident(i));

  it('pages through every incident once, newest first by default, ties broken by id', () => {
    const { items, pages } = walk((cursor) => pageIncidents(incidents, { limit: '50', ...(cursor ? { cursor } : {}) }));
    expect(pages).toBe(5);
    expect(items).toHaveLength(237);
    expect(new Set(items.map((i) => i.incidentId)).size).toBe(237);
    const keys = items.map((i) => `${i.openedAt} ${i.incidentId}`);
    expect(keys).toEqual([...keys].sort().reverse());
    expect(pageIncidents(incidents, {}).items).toHaveLength(100);
    expect(pageIncidents(incidents, {}).total).toBe(237);
  });

  it('filters by tenant, connector, severity and kind before paging, and sorts on request', () => {
    const p = pageIncidents(incidents, { tenant: 'acme', severity: 'V3', sort: 'connectorId', limit: '500' });
    const expected = incidents.filter((i) => i.tenantId === 'acme' && i.severity === 'V3');
    expect(p.total).toBe(expected.length);
    expect(p.items.every((i) => i.tenantId === 'acme' && i.severity === 'V3')).toBe(true);
    expect(p.items.map((i) => i.connectorId)).toEqual([...p.items.map((i) => i.connectorId)].sort());
    expect(pageIncidents(incidents, { connector: 'c3', kind: 'QUALITY', limit: '500' }).items.every((i) => i.connectorId === 'c3' && i.kind === 'QUALITY')).toBe(true);
    expect(p.nextCursor).toBeNull();
  });

  it('an item added between two pages does not make the next page repeat or skip one', () => {
    const first = pageIncidents(incidents, { limit: '30' });
    const grown = [...incidents, incident(999)]; // the newest of all: it sorts before the cursor
    const second = pageIncidents(grown, { limit: '30', cursor: first.nextCursor! });
    const straight = pageIncidents(incidents, { limit: '60' }).items.slice(30);
    expect(second.items).toEqual(straight);
  });

  it('alerts page the same way, newest first', () => {
    const alerts = Array.from({ length: 75 }, (_, i) => alert(i));
    const { items } = walk((cursor) => pageAlerts(alerts, { limit: '20', severity: 'P1', ...(cursor ? { cursor } : {}) }));
    expect(items).toHaveLength(alerts.filter((a) => a.severity === 'P1').length);
    const keys = items.map((a) => `${a.raisedAt} ${a.alertId}`);
    expect(keys).toEqual([...keys].sort().reverse());
  });

  it('a cursor that is not one the API returned is a VALIDATION error naming the field', () => {
    try {
      pageAlerts([alert(1)], { cursor: 'not-a-cursor' });
      expect.unreachable();
    } catch (e) {
      expect(isPreflightError(e) && e.code).toBe('VALIDATION');
      expect((e as Error).message).toMatch(/^cursor:/);
    }
  });
});
