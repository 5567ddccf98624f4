import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { newEvent, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { evolve, type Attempt, type ReadinessInput } from './attempt.js';
import { decide, type ReadinessSettings } from './decide.js';
import { contractFacts as parseFallback, contractFactsFallbacks } from './contract-facts.js';
import { DEFAULT_APPROVAL_POLICY } from './policy.js';

const s = sampleEvents({ correlationId: 'att-1', connectorId: 'c-1' });
const t0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (ms: number): Date => new Date(t0 + ms);

// Without contract facts on the handshake, so each test's settings.contractFacts speaks for the contract.
const handshake = { ...s['connector.handshake'], occurredAt: at(0).toISOString(), durationMs: 0, status: 'COMPLETED' as const, error: null, spec: { ...s['connector.handshake'].spec, environment: 'staging' }, contractFacts: null };
const schemaPass = { ...s['connector.schema.checked'], occurredAt: at(100).toISOString(), status: 'PASS' as const, diff: [], checkpoint: { ...s['connector.schema.checked'].checkpoint!, success: true }, severity: null, error: null };
const credsPass = { ...s['connector.credentials.audited'], occurredAt: at(120).toISOString(), status: 'PASS' as const, findings: [], error: null };

const settings = (pii = false): ReadinessSettings => ({
  preflightTimeoutMs: 5_000,
  approvalTimeoutMs: 60_000,
  policy: DEFAULT_APPROVAL_POLICY,
  contractFacts: () => ({ id: 'erp-orders', version: '1.0.0', pii }),
});

function fold(events: ReadinessInput[]): Attempt {
  let a: Attempt | undefined;
  events.forEach((e, i) => (a = evolve(a, e, `kafka://${e.eventType}/0/${i}`)));
  return a!;
}

function outcome(events: ConnectorEvent[]): Extract<ConnectorEvent, { eventType: 'connector.validated' }> {
  const v = events.find((e) => e.eventType === 'connector.validated');
  if (!v || v.eventType !== 'connector.validated') throw new Error('no outcome');
  return v;
}

describe('readiness decide', () => {
  it('READY when all three checks pass, auto-approved by the fallback policy, with a YAML receipt', () => {
    const { events, attempt } = decide(fold([credsPass, handshake, schemaPass]), at(200), settings());
    const v = outcome(events);
    expect(v.status).toBe('READY');
    expect(v.validatedBy).toBe('policy:auto-approve');
    expect(attempt.outcome).toBe('READY');
    const receipt = parse(v.receiptYaml) as Record<string, unknown>;
    for (const key of ['connector', 'handshake', 'schema_check', 'credential_audit', 'validated_by', 'status', 'attempt_id', 'contract', 'checks', 'evidence']) expect(receipt).toHaveProperty(key);
    expect(receipt['status']).toBe('READY');
    expect(receipt['attempt_id']).toBe('att-1');
    // Written out in full for people: no YAML anchors or aliases.
    expect(v.receiptYaml).not.toMatch(/(^|\s)[&*]a\d+(\s|$)/m);
    expect((receipt['contract'] as { version: string }).version).toBe('1.0.0');
    expect(v.receipt.evidence).toHaveLength(3);
    expect(v.receipt.checks.map((c) => c.name)).toEqual(['handshake', 'schema_check', 'credential_audit']);
    expect(v.durationMs).toBe(200);
  });

  it('the receipt (version 3) carries every expectation with its evidence, severity, error code and failed-row samples', () => {
    const results = [
      { expectationType: 'expect_table_row_count_to_be_between', kwargsJson: '{"min_value":1,"max_value":null}', success: true, elementCount: null, unexpectedCount: null, unexpectedPercent: null, partialUnexpectedList: [], observedValue: '5000', exceptionMessage: null, severity: 'error', ruleSeverity: null, unexpectedRows: [] },
      { expectationType: 'expect_column_values_to_be_in_set', kwargsJson: '{"column":"country","value_set":["DE"]}', success: false, elementCount: 3, unexpectedCount: 1, unexpectedPercent: 33.3, partialUnexpectedList: ['FR'], observedValue: '1', exceptionMessage: null, severity: 'warning', ruleSeverity: 'info', unexpectedRows: [{ id: '2', country: 'FR', email: '[REDACTED]' }] },
      { expectationType: 'expect_column_values_to_not_be_null', kwargsJson: '{"column":"salary"}', success: false, elementCount: null, unexpectedCount: null, unexpectedPercent: null, partialUnexpectedList: [], observedValue: null, exceptionMessage: 'PERMISSION: permission denied for table payroll', severity: 'error', ruleSeverity: null, unexpectedRows: [] },
    ];
    const failing = { ...schemaPass, status: 'FAIL' as const, checkpoint: { ...schemaPass.checkpoint, success: false, results } };
    const v = outcome(decide(fold([credsPass, handshake, failing]), at(200), settings()).events);
    const receipt = parse(v.receiptYaml) as { receipt_version: number; schema_check: { checkpoint: { expectations: unknown[] } } };
    expect(receipt.receipt_version).toBe(3);
    expect(receipt.schema_check.checkpoint.expectations).toEqual([
      { expectation_type: 'expect_table_row_count_to_be_between', expected: { min_value: 1, max_value: null }, success: true, observed: '5000', element_count: null, unexpected_count: null, unexpected_percent: null, error: null, severity: 'error', rule_severity: null },
      { expectation_type: 'expect_column_values_to_be_in_set', expected: { column: 'country', value_set: ['DE'] }, success: false, observed: '1', element_count: 3, unexpected_count: 1, unexpected_percent: 33.3, error: null, severity: 'warning', rule_severity: 'info', failed_rows: [{ id: '2', country: 'FR', email: '[REDACTED]' }] },
      { expectation_type: 'expect_column_values_to_not_be_null', expected: { column: 'salary' }, success: false, observed: null, element_count: null, unexpected_count: null, unexpected_percent: null, error: { code: 'PERMISSION', message: 'permission denied for table payroll' }, severity: 'error', rule_severity: null },
    ]);
  });

  it('emits nothing more once decided, and the outcome id derives from the attempt', () => {
    const first = decide(fold([handshake, schemaPass, credsPass]), at(200), settings());
    expect(decide(first.attempt, at(300), settings()).events).toEqual([]);
    const again = decide(fold([schemaPass, credsPass, handshake]), at(250), settings());
    expect(outcome(again.events).eventId).toBe(outcome(first.events).eventId);
  });

  it('waits for missing checks, then fails as TIMEOUT naming them', () => {
    const a = fold([handshake, schemaPass]);
    expect(decide(a, at(4_000), settings()).events).toEqual([]);
    const v = outcome(decide(a, at(5_001), settings()).events);
    expect(v.status).toBe('FAILED');
    expect(v.reason).toBe('TIMEOUT');
    expect(v.receipt.checks.find((c) => c.name === 'credential_audit')?.status).toBe('MISSING');
  });

  it('fails at once on a failed handshake', () => {
    const failed = { ...handshake, status: 'FAILED' as const, error: { code: 'AUTH', message: 'password authentication failed', retriable: false } };
    const v = outcome(decide(fold([failed]), at(10), settings()).events);
    expect(v).toMatchObject({ status: 'FAILED', reason: 'HANDSHAKE_AUTH' });
  });

  it('names schema mismatch, quality and credential failures', () => {
    const mismatch = { ...schemaPass, status: 'FAIL' as const, diff: s['connector.schema.checked'].diff };
    expect(outcome(decide(fold([handshake, mismatch, credsPass]), at(200), settings()).events).reason).toBe('SCHEMA_MISMATCH');
    const quality = { ...schemaPass, status: 'FAIL' as const, checkpoint: { ...schemaPass.checkpoint, success: false } };
    expect(outcome(decide(fold([handshake, quality, credsPass]), at(200), settings()).events).reason).toBe('QUALITY');
    const creds = { ...credsPass, status: 'FAIL' as const };
    expect(outcome(decide(fold([handshake, schemaPass, creds]), at(200), settings()).events).reason).toBe('CREDENTIALS');
  });

  it('PII in production needs a security admin: asks once, then READY on approval or FAILED on rejection', () => {
    const prod = { ...handshake, spec: { ...handshake.spec, environment: 'production' } };
    const first = decide(fold([prod, schemaPass, credsPass]), at(200), settings(true));
    expect(first.events.map((e) => e.eventType)).toEqual(['connector.approval.requested']);
    expect(first.events[0]).toMatchObject({ policy: 'pii-in-production', requiredRole: 'security_admin' });
    expect(decide(first.attempt, at(300), settings(true)).events).toEqual([]);
    const approve = newEvent('connector.approval.decided', { decision: 'APPROVED', policy: 'pii-in-production', comment: null }, { producer: 'api@1', tenantId: 'tenant-a', connectorId: 'c-1', correlationId: 'att-1', actor: 'user:sam' });
    const ready = outcome(decide(evolve(first.attempt, approve, 'ref'), at(400), settings(true)).events);
    expect(ready).toMatchObject({ status: 'READY', validatedBy: 'user:sam (policy:pii-in-production)' });
    const reject = { ...approve, decision: 'REJECTED' as const };
    expect(outcome(decide(evolve(first.attempt, reject, 'ref'), at(400), settings(true)).events)).toMatchObject({ status: 'FAILED', reason: 'APPROVAL_REJECTED' });
    expect(outcome(decide(first.attempt, at(200 + 60_000), settings(true)).events).reason).toBe('APPROVAL_TIMEOUT');
  });

  it('reads PII, id and version from the facts the handshake carries, never calling the contract parse', () => {
    const facts = s['connector.handshake'].contractFacts!;
    const noParse: ReadinessSettings = { ...settings(), contractFacts: () => expect.unreachable('the handshake carries contract facts: nothing to parse') };
    const prod = { ...handshake, contractFacts: facts, spec: { ...handshake.spec, environment: 'production', contractYaml: 'not: [valid' } };
    const first = decide(fold([prod, schemaPass, credsPass]), at(200), noParse);
    // The facts list customers.email as PII: production needs a security admin.
    expect(first.events[0]).toMatchObject({ eventType: 'connector.approval.requested', policy: 'pii-in-production' });
    const noPii = { ...prod, contractFacts: { ...facts, version: '4.2.0', piiFields: [] } };
    const v = outcome(decide(fold([noPii, schemaPass, credsPass]), at(200), noParse).events);
    expect(v).toMatchObject({ status: 'READY', receipt: { contractVersion: '4.2.0' } });
  });

  it('a handshake written before facts were carried falls back to parsing its contract, once per text and counted', () => {
    const yaml = 'apiVersion: v3.0.2\nkind: DataContract\nid: fallback-c\nversion: 9.9.9\nstatus: active\nschema:\n  - name: t\n    properties:\n      - name: email\n        classification: pii\n';
    const before = contractFactsFallbacks();
    const prod = { ...handshake, spec: { ...handshake.spec, environment: 'production', contractYaml: yaml } };
    const real: ReadinessSettings = { ...settings(), contractFacts: (y) => parseFallback(y) };
    expect(decide(fold([prod, schemaPass, credsPass]), at(200), real).events[0]).toMatchObject({ eventType: 'connector.approval.requested' });
    decide(fold([prod, schemaPass, credsPass]), at(300), real);
    expect(contractFactsFallbacks()).toBe(before + 1);
  });

  it('a seen connector.validated marks the attempt decided (restart safety)', () => {
    const a = fold([handshake, schemaPass, s['connector.validated']]);
    expect(a.outcome).toBe('READY');
    expect(decide(evolve(a, credsPass, 'r'), at(200), settings()).events).toEqual([]);
  });

  it('a folded approval request (read back after a restart) is not asked again, and its timeout keeps running', () => {
    const prod = { ...handshake, spec: { ...handshake.spec, environment: 'production' } };
    const asked = decide(fold([prod, schemaPass, credsPass]), at(200), settings(true));
    const request = asked.events[0]!;
    expect(request.eventType).toBe('connector.approval.requested');
    if (request.eventType !== 'connector.approval.requested') return;
    // A new instance folds the same inputs and its own earlier request, in any order.
    const rebuilt = fold([request, credsPass, prod, schemaPass]);
    expect(rebuilt.approvalRequestedAtMs).toBe(t0 + 200);
    expect(rebuilt.evidence).toHaveLength(3);
    expect(decide(rebuilt, at(1_000), settings(true)).events).toEqual([]);
    expect(outcome(decide(rebuilt, at(200 + 60_000), settings(true)).events).reason).toBe('APPROVAL_TIMEOUT');
  });

  it('a cancel request ends the attempt FAILED/CANCELLED once, during checks or while awaiting approval, and later results change nothing', () => {
    const cancel = { ...s['connector.cancel.requested'], occurredAt: at(150).toISOString(), actor: 'user:ada' };
    const during = decide(fold([handshake, cancel]), at(160), settings());
    const v = outcome(during.events);
    expect(v).toMatchObject({ status: 'FAILED', reason: 'CANCELLED', validatedBy: 'user:ada (cancelled)', causationId: cancel.eventId });
    expect(v.receipt.checks.filter((c) => c.status === 'MISSING').map((c) => c.name)).toEqual(['schema_check', 'credential_audit']);
    expect(decide(evolve(evolve(during.attempt, schemaPass, 'r'), credsPass, 'r'), at(300), settings()).events).toEqual([]);
    // The same outcome id whatever instance decides it, so a replay cannot add a second one.
    expect(outcome(decide(fold([cancel, handshake]), at(170), settings()).events).eventId).toBe(v.eventId);

    const prod = { ...handshake, spec: { ...handshake.spec, environment: 'production' } };
    const asked = decide(fold([prod, schemaPass, credsPass]), at(200), settings(true));
    expect(asked.events.map((e) => e.eventType)).toEqual(['connector.approval.requested']);
    expect(outcome(decide(evolve(asked.attempt, cancel, 'r'), at(400), settings(true)).events).reason).toBe('CANCELLED');
    // An attempt already decided is not decided again by a late cancel.
    const done = decide(fold([handshake, schemaPass, credsPass]), at(200), settings());
    expect(decide(evolve(done.attempt, cancel, 'r'), at(400), settings()).events).toEqual([]);
  });
});
