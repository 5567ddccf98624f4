import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { newEvent, payloadOf, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { gate, releaseReadiness } from './release-readiness.js';
import { evolveConnector, type ConnectorState } from './state.js';

const contract = `apiVersion: v3.1.0
kind: DataContract
id: shop
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - { name: id, logicalType: integer, required: true }
      - { name: email, logicalType: string, quality: [{ metric: nullValues, mustBe: 0 }] }
  - name: customers
    properties:
      - { name: customer_id, logicalType: integer, required: true }
`;
const s = sampleEvents();
const spec = { ...s['connector.registered'].spec, contractYaml: contract };


function receipt(quality: boolean, diff = false): string {
  return stringify({
    status: quality && !diff ? 'READY' : 'FAILED',
    attempt_id: 'a1',
    evidence: ['kafka://connector.schema.checked/0/7'],
    schema_check: {
      status: quality && !diff ? 'PASS' : 'FAIL',
      differences: diff ? [{ kind: 'MISSING_FIELD', dataset: 'customers', field: 'customer_id', expected: 'integer', actual: 'absent', severity: 'ERROR' }] : [],
      checkpoint: {
        evaluated_expectations: 1,
        successful_expectations: quality ? 1 : 0,
        expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', expected: { column: 'email' }, success: quality, unexpected_count: quality ? 0 : 3, unexpected_percent: quality ? 0 : 30, error: null }],
      },
    },
  });
}

function connector(status: 'READY' | 'FAILED', yaml: string, extra: ConnectorEvent[] = []): ConnectorState {
  const ctx = { producer: 't@1', tenantId: 'acme', connectorId: 'acme.shop', correlationId: 'a1', actor: 'user:x' };
  const events: ConnectorEvent[] = [
    newEvent('connector.registered', { spec, autoPreflight: true }, { ...ctx, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0)) }),
    newEvent('connector.validated', { ...payloadOf(s['connector.validated']), status, reason: status === 'READY' ? null : 'QUALITY', receiptYaml: yaml }, { ...ctx, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 5)) }),
    ...extra,
  ];
  return events.reduce<ConnectorState | undefined>((c, e) => evolveConnector(c, e), undefined)!;
}

describe('release readiness', () => {
  it('one row per contract dataset with schema adherence, data quality, last checkpoint and evidence; a READY connector passes', () => {
    const rows = releaseReadiness([connector('READY', receipt(true))]);
    expect(rows.map((r) => r.dataset)).toEqual(['customers', 'orders']);
    for (const r of rows) {
      expect(r).toMatchObject({ tenant: 'acme', connector: 'acme.shop', schemaAdherence: 'PASS', dataQuality: 'PASS', pass: true, reasons: [], failing: [] });
      expect(r.lastCheckpoint).toMatchObject({ attemptId: 'a1', status: 'READY', evaluated: 1, successful: 1 });
      expect(r.evidence).toEqual({ receipt: '/api/connectors/acme.shop/receipt', connector: '/api/connectors/acme.shop', events: ['kafka://connector.schema.checked/0/7'] });
    }
    expect(gate(rows, 'orders').pass).toBe(true);
  });

  it('a quality failure fails only the dataset it belongs to on quality, and the gate names the failing expectation', () => {
    const rows = releaseReadiness([connector('FAILED', receipt(false))]);
    const orders = rows.find((r) => r.dataset === 'orders')!;
    expect(orders).toMatchObject({ dataQuality: 'FAIL', schemaAdherence: 'PASS', pass: false });
    expect(orders.failing).toEqual([expect.objectContaining({ expectation: 'expect_column_values_to_not_be_null', column: 'email', unexpectedCount: 3, unexpectedPercent: 30 })]);
    expect(rows.find((r) => r.dataset === 'customers')).toMatchObject({ dataQuality: 'PASS', pass: false, reasons: ['the connector is FAILED'] });
    const g = gate(rows, 'orders');
    expect(g.pass).toBe(false);
    expect(g.reasons).toEqual(expect.arrayContaining(['acme.shop: data quality FAIL', 'acme.shop: failing: expect_column_values_to_not_be_null(email)']));
    expect(gate(rows, 'acme.shop:customers').rows).toHaveLength(1);
  });

  it('a schema difference fails schema adherence of its dataset; an update since the last preflight, or a retirement, fails the gate; an unknown dataset does not pass', () => {
    expect(releaseReadiness([connector('FAILED', receipt(true, true))]).find((r) => r.dataset === 'customers')).toMatchObject({ schemaAdherence: 'FAIL', failing: [expect.objectContaining({ expectation: 'schema:MISSING_FIELD', column: 'customer_id' })] });
    const ctx = { producer: 't@1', tenantId: 'acme', connectorId: 'acme.shop', actor: 'user:y', occurredAt: new Date(Date.UTC(2026, 0, 2)) };
    const updated = connector('READY', receipt(true), [newEvent('connector.updated', { spec, changed: ['config'], changelog: null, reason: null, autoPreflight: false }, { ...ctx, correlationId: 'u1' })]);
    expect(gate(releaseReadiness([updated]), 'orders')).toMatchObject({ pass: false, reasons: ['acme.shop: the connector changed since its last preflight'] });
    const retired = connector('READY', receipt(true), [newEvent('connector.deregistered', { name: 'shop', reason: null }, { ...ctx, correlationId: 'r1' })]);
    expect(gate(releaseReadiness([retired]), 'orders')).toMatchObject({ pass: false, reasons: ['acme.shop: the connector is retired'] });
    expect(gate(releaseReadiness([connector('READY', receipt(true))]), 'nope')).toMatchObject({ pass: false, rows: [] });
  });
});
