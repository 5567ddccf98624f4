import { describe, expect, it } from 'vitest';
import { sampleEvents } from '@preflight/events';
import { decideSchemaCheck, incidentFor, type SchemaCheckOutcome } from './decide.js';

const handshake = { ...sampleEvents()['connector.handshake'], status: 'COMPLETED' as const, error: null };
const pass: SchemaCheckOutcome = { ok: true, contractId: 'orders', contractVersion: '1.0.0', datasetsDiscovered: 1, diff: [], checkpoint: null, checkpointSeverity: null, durationMs: 12 };
const lost = (code: string): SchemaCheckOutcome => ({ ok: false, error: { code, message: 'connection terminated unexpectedly', retriable: true }, durationMs: 30, contractId: 'orders', contractVersion: '1.0.0' });

describe('decideSchemaCheck', () => {
  it('a passing check is one PASS event and opens nothing', () => {
    expect(incidentFor(handshake, pass)).toBeNull();
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
    const first = incidentFor(handshake, missing('amount'));
    const again = incidentFor({ ...handshake, eventId: 'another-event', correlationId: 'another-attempt' }, missing('amount'));
    expect(again!.incidentId).toBe(first!.incidentId);
    expect(incidentFor(handshake, missing('currency'))!.incidentId).not.toBe(first!.incidentId);
    expect(incidentFor({ ...handshake, connectorId: 'other' }, missing('amount'))!.incidentId).not.toBe(first!.incidentId);
  });

  it('missing grants are a PERMISSION incident; a failed rule of non-blocking severity opens none', () => {
    const denied: SchemaCheckOutcome = { ...pass, diff: [{ kind: 'PERMISSION', dataset: 'payroll', severity: 'ERROR', message: 'payroll exists but reader cannot read it: GRANT SELECT ON erp.payroll TO reader', pii: false }] };
    expect(incidentFor(handshake, denied)).toMatchObject({ kind: 'PERMISSION', summary: expect.stringContaining('GRANT SELECT ON erp.payroll TO reader') });
    const warnOnly: SchemaCheckOutcome = {
      ...pass,
      checkpoint: {
        success: true,
        statistics: { evaluated_expectations: 1, successful_expectations: 0, unsuccessful_expectations: 1, success_percent: 0, warnings: 1 },
        results: [{ expectation_config: { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'sku' }, meta: { dataset: 'lines', column: 'sku', pii: false, source: 'schema[0].properties[0].quality[0]', clause: 'nullValues', severity: 'warning' } }, success: false, result: { unexpected_count: 1 }, exception_info: { raised_exception: false, exception_message: null } }],
        meta: { contract_id: 'orders', contract_version: '1.0.0', run_id: null, engine: 'pushdown-sql' },
      },
    };
    expect(incidentFor(handshake, warnOnly)).toBeNull();
  });
});
