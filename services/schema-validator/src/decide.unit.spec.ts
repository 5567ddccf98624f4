import { describe, expect, it } from 'vitest';
import { newEvent, sampleEvents, type ConnectorIncidentOpened, type ConnectorIncidentResolved } from '@preflight/events';
import { decideSchemaCheck, incidentFor, OpenIncidents, resolutionsFor, type OpenIncident, type SchemaCheckOutcome } from './decide.js';

/** The decide functions take the clock; these tests pin it. */
const NOW = new Date('2026-11-23T10:30:00Z');
const handshake = { ...sampleEvents()['connector.handshake'], status: 'COMPLETED' as const, error: null };
const pass: SchemaCheckOutcome = { ok: true, contractId: 'orders', contractVersion: '1.0.0', datasetsDiscovered: 1, diff: [], checkpoint: null, checkpointSeverity: null, durationMs: 12 };
const lost = (code: string): SchemaCheckOutcome => ({ ok: false, error: { code, message: 'connection terminated unexpectedly', retriable: true }, durationMs: 30, contractId: 'orders', contractVersion: '1.0.0' });

describe('decideSchemaCheck', () => {
  it('a passing check is one PASS event and opens nothing', () => {
    expect(incidentFor(handshake, pass, NOW)).toBeNull();
    const events = decideSchemaCheck(handshake, pass, null, null);
    expect(events.map((e) => e.eventType)).toEqual(['connector.schema.checked']);
    expect(events[0]).toMatchObject({ status: 'PASS', error: null, causationId: handshake.eventId });
  });

  it('a schema mismatch fails the check and opens a V2 incident citing the check', () => {
    const mismatch: SchemaCheckOutcome = { ...pass, diff: [{ kind: 'MISSING_FIELD', dataset: 'orders', field: 'amount', severity: 'ERROR', message: 'orders.amount is in the contract but not in the source', pii: false }] };
    const ticket = incidentFor(handshake, mismatch, new Date('2026-11-23T10:00:00Z'));
    expect(ticket).toMatchObject({ kind: 'SCHEMA_MISMATCH', severity: 'V2' });
    const [checked, opened, ...rest] = decideSchemaCheck(handshake, mismatch, ticket, 'delivered');
    expect(rest).toEqual([]);
    expect(checked).toMatchObject({ status: 'FAIL', severity: 'V2' });
    expect(opened).toMatchObject({ eventType: 'connector.incident.opened', incidentId: ticket!.incidentId, causationId: checked!.eventId, delivery: 'delivered' });
  });

  it('a connection lost after a good handshake raises an alert, once per input', () => {
    const events = decideSchemaCheck(handshake, lost('CONNECTIVITY'), null, null);
    expect(events.map((e) => e.eventType)).toEqual(['connector.schema.checked', 'connector.alert.raised']);
    expect(events[0]).toMatchObject({ status: 'ERROR', error: { code: 'CONNECTIVITY' } });
    expect(events[1]).toMatchObject({
      kind: 'CONNECTIVITY',
      severity: 'CRITICAL',
      causationId: events[0]!.eventId,
      details: { stage: 'schema check', connector: handshake.spec.name },
      summary: expect.stringContaining('became unreachable during the schema check (CONNECTIVITY)'),
    });
    expect(decideSchemaCheck(handshake, lost('CONNECTIVITY'), null, null)[1]!.eventId).toBe(events[1]!.eventId);
    expect(decideSchemaCheck(handshake, lost('TIMEOUT'), null, null).map((e) => e.eventType)).toContain('connector.alert.raised');
  });

  it('an error that is not about reaching the source fails the check without paging anyone', () => {
    const events = decideSchemaCheck(handshake, lost('PERMISSION'), null, null);
    expect(events.map((e) => e.eventType)).toEqual(['connector.schema.checked']);
    expect(events[0]).toMatchObject({ status: 'ERROR', error: { code: 'PERMISSION' } });
  });

  it('the same problem in a later attempt carries the same incident id; another problem another one', () => {
    const missing = (field: string): SchemaCheckOutcome => ({ ...pass, diff: [{ kind: 'MISSING_FIELD', dataset: 'orders', field, severity: 'ERROR', message: `orders.${field} is missing`, pii: false }] });
    const first = incidentFor(handshake, missing('amount'), NOW);
    const again = incidentFor({ ...handshake, eventId: 'another-event', correlationId: 'another-attempt' }, missing('amount'), NOW);
    expect(again!.incidentId).toBe(first!.incidentId);
    expect(incidentFor(handshake, missing('currency'), NOW)!.incidentId).not.toBe(first!.incidentId);
    expect(incidentFor({ ...handshake, connectorId: 'other' }, missing('amount'), NOW)!.incidentId).not.toBe(first!.incidentId);
  });

  it('missing grants are a PERMISSION incident; a failed rule of non-blocking severity opens none', () => {
    const denied: SchemaCheckOutcome = { ...pass, diff: [{ kind: 'PERMISSION', dataset: 'payroll', severity: 'ERROR', message: 'payroll exists but reader cannot read it: GRANT SELECT ON erp.payroll TO reader', pii: false }] };
    expect(incidentFor(handshake, denied, NOW)).toMatchObject({ kind: 'PERMISSION', summary: expect.stringContaining('GRANT SELECT ON erp.payroll TO reader') });
    const warnOnly: SchemaCheckOutcome = {
      ...pass,
      checkpoint: {
        success: true,
        statistics: { evaluated_expectations: 1, successful_expectations: 0, unsuccessful_expectations: 1, success_percent: 0, warnings: 1 },
        results: [{ expectation_config: { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'sku' }, meta: { dataset: 'lines', column: 'sku', pii: false, source: 'schema[0].properties[0].quality[0]', clause: 'nullValues', severity: 'warning' } }, success: false, result: { unexpected_count: 1 }, exception_info: { raised_exception: false, exception_message: null } }],
        meta: { contract_id: 'orders', contract_version: '1.0.0', run_id: null, engine: 'pushdown-sql' },
      },
    };
    expect(incidentFor(handshake, warnOnly, NOW)).toBeNull();
  });
});

describe('incident lifecycle', () => {
  const missing = (field: string): SchemaCheckOutcome => ({ ...pass, diff: [{ kind: 'MISSING_FIELD', dataset: 'orders', field, severity: 'ERROR', message: `orders.${field} is missing`, pii: false }] });
  const later = { ...handshake, eventId: 'handshake-2', correlationId: 'attempt-2' };
  const openOf = (field: string): OpenIncident => {
    const t = incidentFor(handshake, missing(field), NOW)!;
    return { incidentId: t.incidentId, kind: t.kind, severity: t.severity, summary: t.summary, lastSeenAt: '2026-11-23T10:00:00.000Z' };
  };

  it('a passing check resolves every open incident of the connector, once per incident and check', () => {
    const open = [openOf('amount'), openOf('currency')];
    const resolutions = resolutionsFor(later, pass, null, open, new Date('2026-11-23T11:00:00Z'));
    expect(resolutions).toEqual(open.map((o) => expect.objectContaining({ incidentId: o.incidentId, reason: 'PASSED', supersededBy: null, attemptId: 'attempt-2', resolvedAt: '2026-11-23T11:00:00.000Z' })));
    const events = decideSchemaCheck(later, pass, null, null, resolutions.map((resolution) => ({ resolution, delivery: 'delivered:200' })));
    expect(events.map((e) => e.eventType)).toEqual(['connector.schema.checked', 'connector.incident.resolved', 'connector.incident.resolved']);
    expect(events[1]).toMatchObject({ incidentId: open[0]!.incidentId, causationId: events[0]!.eventId, correlationId: 'attempt-2', delivery: 'delivered:200', occurredAt: '2026-11-23T11:00:00.000Z' });
    // A redelivered handshake decides the same events: consumers drop the repeat by eventId.
    const again = decideSchemaCheck(later, pass, null, null, resolutions.map((resolution) => ({ resolution, delivery: 'delivered:200' })));
    expect(again.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(new Set(events.map((e) => e.idempotencyKey)).size).toBe(3);
  });

  it('a repeat keeps its incident open; a different failure supersedes it; a check that could not run resolves nothing', () => {
    const open = [openOf('amount')];
    const same = incidentFor(later, missing('amount'), NOW);
    expect(resolutionsFor(later, missing('amount'), same, open, NOW)).toEqual([]);
    const other = incidentFor(later, missing('currency'), NOW)!;
    expect(resolutionsFor(later, missing('currency'), other, open, NOW)).toEqual([expect.objectContaining({ incidentId: open[0]!.incidentId, reason: 'SUPERSEDED', supersededBy: other.incidentId })]);
    const events = decideSchemaCheck(later, missing('currency'), other, 'delivered:201', resolutionsFor(later, missing('currency'), other, open, NOW).map((resolution) => ({ resolution, delivery: null })));
    expect(events.map((e) => e.eventType)).toEqual(['connector.schema.checked', 'connector.incident.resolved', 'connector.incident.opened']);
    expect(resolutionsFor(later, lost('CONNECTIVITY'), null, open, NOW)).toEqual([]);
  });

  it('OpenIncidents: open while the newest occurrence is later than the newest resolution, in any order', () => {
    const ctx = (corr: string, at: string) => ({ producer: 'schema-validator@0.1.0', tenantId: 'acme', connectorId: 'acme.crm', correlationId: corr, actor: 'service:schema-validator', occurredAt: new Date(at) });
    const o = sampleEvents()['connector.incident.opened'];
    const r = sampleEvents()['connector.incident.resolved'];
    const opened = (id: string, corr: string, at: string): ConnectorIncidentOpened => newEvent('connector.incident.opened', { incidentId: id, kind: o.kind, severity: o.severity, summary: o.summary, diff: o.diff, evidence: o.evidence, delivery: o.delivery }, ctx(corr, at));
    const resolved = (id: string, corr: string, at: string): ConnectorIncidentResolved => newEvent('connector.incident.resolved', { incidentId: id, kind: r.kind, severity: r.severity, reason: 'PASSED', supersededBy: null, summary: r.summary, evidence: r.evidence, delivery: r.delivery }, ctx(corr, at));
    const log = [opened('A', 'a1', '2026-11-23T10:00:01Z'), resolved('A', 'a2', '2026-11-23T10:00:02Z'), opened('B', 'a2', '2026-11-23T10:00:02Z'), opened('A', 'a3', '2026-11-23T10:00:03Z'), resolved('B', 'a3', '2026-11-23T10:00:03Z')];
    for (const order of [log, [...log].reverse(), [log[3]!, log[1]!, log[4]!, log[0]!, log[2]!]]) {
      const incidents = new OpenIncidents();
      for (const e of order) incidents.apply(e);
      expect(incidents.of('acme.crm').map((i) => [i.incidentId, i.lastSeenAt])).toEqual([['A', '2026-11-23T10:00:03.000Z']]);
      expect(incidents.of('another')).toEqual([]);
    }
  });
});
