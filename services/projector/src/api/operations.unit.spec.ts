import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, signDevToken } from '@preflight/auth';
import { devScopes } from '@preflight/connectors';
import { PreflightError } from '@preflight/core';
import { newEvent, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { buildApi } from '../http.js';
import { Projection } from '../projection.js';

const SECRET = 'operations-unit';
const projection = new Projection();
/** What reached the log, and the publishes the test holds open to settle by hand. */
const onLog: ConnectorEvent[] = [];
const held: Array<{ events: ConnectorEvent[]; land: () => void; fail: (e: Error) => void }> = [];
let app: FastifyInstance;
let token: string;

beforeAll(async () => {
  const { spec, contractFacts } = sampleEvents()['connector.registered'];
  projection.apply(newEvent('connector.registered', { spec, contractFacts, autoPreflight: false }, { producer: 't@1', tenantId: 'acme', connectorId: 'acme.crm', correlationId: 'r1', actor: 'user:x' }));
  app = await buildApi({
    projection: () => projection,
    auth: new Authenticator({ mode: 'hs256', secret: SECRET }),
    publish: (...events) =>
      new Promise<void>((resolve, reject) => {
        held.push({ events, land: () => (onLog.push(...events), resolve()), fail: reject });
      }),
    ready: () => true,
    operationTimeoutMs: 60_000,
    scopes: () => devScopes({ filesRoot: '/nonexistent' }),
  });
  token = await signDevToken({ roles: ['platform_admin'], tenant: 'acme', sub: 'ann' }, SECRET);
});
afterAll(async () => app?.close());

const start = (key: string) =>
  app.inject({ method: 'POST', url: '/api/connectors/acme.crm/preflight', headers: { authorization: `Bearer ${token}`, 'idempotency-key': key } }).then((r) => ({ status: r.statusCode, body: r.json<{ id: string; attemptId: string }>() }));
const settled = async <T>(p: Promise<T>): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
const waitHeld = async (n: number): Promise<void> => {
  for (let i = 0; i < 200 && held.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(held).toHaveLength(n);
};

describe('POST /api/connectors/:id/preflight while its request is being published', () => {
  it('a retry with the same idempotency key answers only once the first publish went through, with the same operation', async () => {
    const first = start('k-land');
    await waitHeld(1);
    const retry = start('k-land');
    expect(await settled(retry)).toBe(false);
    held[0]!.land();
    const [a, b] = await Promise.all([first, retry]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.body.id).toBe(a.body.id);
    expect(held).toHaveLength(1);
    expect(onLog.filter((e) => e.eventType === 'connector.handshake.requested').map((e) => e.correlationId)).toEqual([a.body.attemptId]);
  });

  it('a retry that arrives while the first publish fails is answered with the failure, never a 202 for a request the log lacks', async () => {
    held.length = 0;
    onLog.length = 0;
    const first = start('k-fail');
    await waitHeld(1);
    const retry = start('k-fail');
    expect(await settled(retry)).toBe(false);
    held[0]!.fail(new PreflightError('BUS', 'the broker is gone', { retriable: true }));
    const [a, b] = await Promise.all([first, retry]);
    expect(a.status).toBe(503);
    expect(b.status).toBe(503);
    expect(b.body).toMatchObject({ code: 'BUS' });
    // The next retry starts the preflight afresh, and every operation a client was given is on the log.
    const again = start('k-fail');
    await waitHeld(2);
    held[1]!.land();
    const c = await again;
    expect(c.status).toBe(202);
    expect(onLog.map((e) => e.correlationId)).toEqual([c.body.attemptId]);
    expect(projection.operations.get(c.body.id)).toBeDefined();
  });
});
