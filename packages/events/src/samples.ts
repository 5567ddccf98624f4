import { newEvent, type EventContext } from './envelope.js';
import type { ConnectorEvent, ConnectorSpec, ContractFactsInfo, DiffEntry, Envelope, EventType, PayloadOf } from './types.js';

const spec: ConnectorSpec = {
  name: 'erp-orders',
  sourceType: 'postgres',
  configJson: JSON.stringify({ type: 'postgres', host: '127.0.0.1', port: 5432, database: 'erp', user: 'reader', secretRef: 'env:ERP_PG_PASSWORD' }),
  contractYaml: 'apiVersion: v3.0.2\nkind: DataContract\nid: erp-orders\nversion: 1.0.0\nstatus: active\nschema: []\n',
  environment: 'production',
  owner: 'team-erp',
  labels: { domain: 'sales' },
};

/** Facts as the API derives them for `spec` (whose sample contract is only a stub). */
const contractFacts: ContractFactsInfo = {
  id: 'erp-orders',
  version: '1.0.0',
  datasets: [{ name: 'customers', namespace: 'sales', fields: [{ name: 'email', type: 'string', pii: true }, { name: 'loyalty_tier', type: null, pii: false }] }],
  piiFields: ['customers.email'],
  server: { name: 'prod', type: 'postgres', environment: 'production', host: '127.0.0.1', port: 5432, database: 'erp', schema: 'sales' },
};

const diff: DiffEntry = {
  kind: 'MISSING_FIELD',
  dataset: 'customers',
  field: 'loyalty_tier',
  expected: 'string',
  actual: 'absent',
  severity: 'ERROR',
  message: 'customers.loyalty_tier is in the contract but not in the source',
  pii: false,
};

/**
 * One complete sample per event type, every optional field filled, so a round trip through avsc
 * exercises each branch of each union. Tests and benches reuse these.
 */
export function sampleEvents(overrides: Partial<EventContext> = {}): { [T in EventType]: Extract<ConnectorEvent, { eventType: T }> } {
  const ctx: EventContext = {
    producer: 'sample@0.1.0',
    tenantId: 'tenant-a',
    connectorId: 'conn-1',
    correlationId: 'attempt-1',
    actor: 'user:alice',
    causationId: '00000000-0000-4000-8000-000000000000',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ...overrides,
  };
  return {
    'connector.registered': newEvent('connector.registered', { spec, autoPreflight: true, contractFacts }, ctx),
    'connector.handshake.requested': newEvent('connector.handshake.requested', { spec, operationId: 'op-1', reason: 'manual' }, ctx),
    'connector.handshake': newEvent(
      'connector.handshake',
      {
        status: 'COMPLETED',
        spec,
        trigger: 'REQUESTED',
        operationId: 'op-1',
        connectorVersion: '1.0.0',
        attempts: 1,
        durationMs: 12.5,
        serverVersion: 'PostgreSQL 15.18',
        tls: { enabled: true, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
        latencyMs: 1.25,
        principal: 'reader',
        error: { code: 'CONNECTIVITY', message: 'connection refused', retriable: true },
        audit: { 'source.host': '127.0.0.1' },
        contractFacts,
      },
      ctx,
    ),
    'connector.schema.checked': newEvent(
      'connector.schema.checked',
      {
        status: 'FAIL',
        contractId: 'erp-orders',
        contractVersion: '1.0.0',
        datasetsDiscovered: 3,
        diff: [diff],
        checkpoint: {
          success: false,
          engine: 'pushdown-sql',
          evaluatedExpectations: 1,
          successfulExpectations: 0,
          unsuccessfulExpectations: 1,
          successPercent: 0,
          results: [
            {
              expectationType: 'expect_column_values_to_not_be_null',
              kwargsJson: '{"column":"email","mostly":0.99}',
              success: false,
              elementCount: 100,
              unexpectedCount: 3,
              unexpectedPercent: 3,
              partialUnexpectedList: ['[REDACTED]'],
              observedValue: '3',
              exceptionMessage: 'none',
              severity: 'error',
              ruleSeverity: 'error',
              unexpectedRows: [{ id: '7', email: '[REDACTED]', country: null }],
            },
          ],
        },
        severity: 'V3',
        durationMs: 40,
        error: { code: 'SOURCE', message: 'relation does not exist', retriable: false },
      },
      ctx,
    ),
    'connector.credentials.audited': newEvent(
      'connector.credentials.audited',
      {
        status: 'FAIL',
        findings: [{ code: 'SUPERUSER', severity: 'CRITICAL', message: 'role is a superuser', object: 'role:reader' }],
        principal: 'reader',
        secretScheme: 'env',
        rotationAgeDays: 12.5,
        tls: true,
        durationMs: 8,
        error: { code: 'PERMISSION', message: 'no SELECT on public.orders', retriable: false },
      },
      ctx,
    ),
    'connector.validated': newEvent(
      'connector.validated',
      {
        status: 'READY',
        reason: 'none',
        validatedBy: 'policy:auto-approve-non-pii',
        receipt: {
          attemptId: 'attempt-1',
          connector: 'erp-orders',
          sourceType: 'postgres',
          contractVersion: '1.0.0',
          startedAt: '2026-11-22T10:00:00.000Z',
          finishedAt: '2026-11-22T10:00:01.000Z',
          checks: [{ name: 'handshake', status: 'COMPLETED', durationMs: 12.5, eventId: 'e-1', summary: 'PostgreSQL 15.18 over TLSv1.3' }],
          evidence: ['kafka://connector.handshake/0/12'],
        },
        receiptYaml: 'status: READY\n',
        durationMs: 1000,
        audit: { 'source.host': '127.0.0.1' },
      },
      ctx,
    ),
    'connector.incident.opened': newEvent(
      'connector.incident.opened',
      {
        incidentId: 'INC-1',
        kind: 'SCHEMA_MISMATCH',
        severity: 'V2',
        summary: 'schema mismatch on erp-orders',
        diff: [diff],
        evidence: ['kafka://connector.schema.checked/0/3'],
        delivery: 'delivered:201',
      },
      ctx,
    ),
    'connector.alert.raised': newEvent(
      'connector.alert.raised',
      { alertId: 'ALR-1', kind: 'CONNECTIVITY', severity: 'CRITICAL', summary: 'source unreachable', errorCode: 'CONNECTIVITY', details: { host: '127.0.0.1' } },
      ctx,
    ),
    'connector.approval.requested': newEvent(
      'connector.approval.requested',
      { policy: 'pii-in-production', requiredRole: 'security_admin', reason: 'contract has PII fields' },
      ctx,
    ),
    'connector.approval.decided': newEvent(
      'connector.approval.decided',
      { decision: 'APPROVED', policy: 'pii-in-production', comment: 'reviewed' },
      ctx,
    ),
    'connector.cancel.requested': newEvent('connector.cancel.requested', { operationId: 'op-1', reason: 'no longer needed' }, ctx),
    'connector.updated': newEvent(
      'connector.updated',
      {
        spec,
        changed: ['contract'],
        changelog: { from: '1.0.0', to: '2.0.0', breaking: true, changes: [{ path: 'customers.loyalty_tier', kind: 'FIELD_REMOVED', breaking: true, detail: 'customers.loyalty_tier was removed' }] },
        reason: 'loyalty tiers moved to another system',
        autoPreflight: true,
      },
      ctx,
    ),
    'connector.deregistered': newEvent('connector.deregistered', { name: 'erp-orders', reason: 'source decommissioned' }, ctx),
    'connector.incident.resolved': newEvent(
      'connector.incident.resolved',
      {
        incidentId: 'INC-1',
        kind: 'SCHEMA_MISMATCH',
        severity: 'V2',
        reason: 'PASSED',
        supersededBy: null,
        summary: 'erp-orders: the schema check passed',
        evidence: ['kafka://connector.schema.checked/0/4'],
        delivery: 'delivered:200',
      },
      ctx,
    ),
  };
}

const ENVELOPE: ReadonlyArray<keyof Envelope> = ['eventId', 'eventType', 'eventVersion', 'occurredAt', 'producer', 'tenantId', 'connectorId', 'correlationId', 'causationId', 'idempotencyKey', 'traceparent', 'actor'];

/** An event's own fields without its envelope: a sample's payload, for a test that builds its own envelope with `newEvent`. */
export function payloadOf<T extends ConnectorEvent>(e: T): PayloadOf<T['eventType']> {
  const rest: Record<string, unknown> = { ...e };
  for (const k of ENVELOPE) delete rest[k];
  return rest as PayloadOf<T['eventType']>;
}
