import { describe, expect, it } from 'vitest';
import { newEvent, sampleEvents, type ConnectorEvent, type EventContext } from '@preflight/events';
import { Projection } from './projection.js';

const s = sampleEvents();
function payload<T extends ConnectorEvent>(e: T): any {
  const { eventId: _a, eventType: _b, eventVersion: _c, occurredAt: _d, producer: _e, tenantId: _f, connectorId: _g, correlationId: _h, causationId: _i, idempotencyKey: _j, traceparent: _k, actor: _l, ...rest } = e;
  return rest;
}
const at = (sec: number): Date => new Date(Date.UTC(2026, 10, 22, 10, 0, sec));
const ctx = (sec: number, over: Partial<EventContext> = {}): EventContext => ({ producer: 't@1', tenantId: 'acme', connectorId: 'acme.crm', correlationId: 'a1', actor: 'user:x', occurredAt: at(sec), ...over });

/** One requested preflight: the request that names the operation, the results, the outcome. */
function attemptEvents(status: 'READY' | 'FAILED'): ConnectorEvent[] {
  return [
    newEvent('connector.handshake.requested', { spec: s['connector.registered'].spec, operationId: 'op-1', reason: null }, { ...ctx(0), idempotencyKey: 'http:acme:k1' }),
    newEvent('connector.handshake', { ...payload(s['connector.handshake']), status: 'COMPLETED', error: null }, ctx(1)),
    newEvent('connector.schema.checked', { ...payload(s['connector.schema.checked']), status: status === 'READY' ? 'PASS' : 'FAIL' }, ctx(2)),
    newEvent('connector.credentials.audited', { ...payload(s['connector.credentials.audited']), status: 'PASS' }, ctx(2)),
    newEvent('connector.validated', { ...payload(s['connector.validated']), status, reason: status === 'READY' ? null : 'SCHEMA_MISMATCH' }, ctx(3)),
  ];
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

describe('operations are derived from attempt facts', () => {
  it.each(['READY', 'FAILED'] as const)('every fold order of one %s attempt gives the same operation and connector', (status) => {
    const events = attemptEvents(status);
    const orders = permutations(events);
    expect(orders).toHaveLength(120);
    const results = orders.map((order) => {
      const p = new Projection();
      for (const e of order) p.apply(e);
      return { op: p.operations.get('op-1'), connector: p.connectors.get('acme.crm')!.status };
    });
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]!.op).toMatchObject({ status: 'SUCCEEDED', done: true, attemptId: 'a1', updatedAt: at(3).toISOString(), idempotencyKey: 'http:acme:k1', result: { status } });
    expect(results[0]!.connector).toBe(status);
  });

  it('an operation the API created completes whichever of request and outcome is folded first', () => {
    for (const order of [attemptEvents('READY'), [...attemptEvents('READY')].reverse()]) {
      const p = new Projection();
      const { op } = p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: null, timeoutMs: 60_000, now: at(0) });
      // As the API publishes it: the request names the operation and its attempt.
      for (const e of order) p.apply(newEvent(e.eventType, { ...payload(e), ...(e.eventType === 'connector.handshake.requested' ? { operationId: op.id } : {}) }, { ...ctx(0), occurredAt: new Date(e.occurredAt), correlationId: op.attemptId }));
      expect(p.operations.get(op.id)).toMatchObject({ status: 'SUCCEEDED', done: true, result: { status: 'READY' } });
    }
  });

  it('an outcome folded after the clock gave up settles the operation as a rebuild from the log would', () => {
    const [requested, ...rest] = attemptEvents('READY');
    const p = new Projection();
    p.apply(requested!);
    p.expireOperations(new Date(Date.parse(p.operations.get('op-1')!.deadline) + 1));
    expect(p.operations.get('op-1')).toMatchObject({ status: 'FAILED', error: { code: 'TIMEOUT' } });
    for (const e of rest) p.apply(e);
    const rebuilt = new Projection();
    for (const e of attemptEvents('READY')) rebuilt.apply(e);
    expect(p.operations.get('op-1')).toEqual(rebuilt.operations.get('op-1'));
    expect(p.operations.get('op-1')).toMatchObject({ status: 'SUCCEEDED', error: null });
  });

  it('an operation whose request could not be published is forgotten, so a retry with the same idempotency key creates and publishes it', () => {
    const p = new Projection();
    const first = p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: 'k9', timeoutMs: 60_000, now: at(0) });
    expect(first.created).toBe(true);
    expect(p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: 'k9', timeoutMs: 60_000, now: at(1) }).created).toBe(false);
    p.forgetOperation(first.op.id);
    expect(p.operations.has(first.op.id)).toBe(false);
    const retry = p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: 'k9', timeoutMs: 60_000, now: at(2) });
    expect(retry.created).toBe(true);
    expect(retry.op.id).not.toBe(first.op.id);
  });
});
