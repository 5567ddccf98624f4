import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { newEvent, sampleEvents, type ConnectorEvent, type EventContext } from '@preflight/events';
import { Authenticator, can, mayAccessTenant, signDevToken, type Principal } from '@preflight/auth';
import { validateRegistration } from './http.js';
import { contractCheckCacheUsage } from './api/registration.js';
import { Projection } from './projection.js';
import { evolveConnector, type ConnectorState } from './state.js';

const samples = sampleEvents();
/** The samples' payloads without their envelope, so each test builds its own envelope. */
const s = new Proxy(samples, {
  get: (target, key: string) => {
    const { eventId: _a, eventType: _b, eventVersion: _c, occurredAt: _d, producer: _e, tenantId: _f, connectorId: _g, correlationId: _h, causationId: _i, idempotencyKey: _j, traceparent: _k, actor: _l, ...rest } = target[key as keyof typeof target];
    return rest;
  },
});
const ctx = (over: Partial<EventContext> = {}): EventContext => ({ producer: 't@1', tenantId: 'acme', connectorId: 'acme.crm', correlationId: 'a1', actor: 'user:x', ...over });
const at = (sec: number): Date => new Date(Date.UTC(2026, 10, 22, 10, 0, sec));

function attempt(status: 'READY' | 'FAILED', corr = 'a1', base = 0): ConnectorEvent[] {
  return [
    newEvent('connector.registered', { spec: s['connector.registered'].spec, autoPreflight: true }, ctx({ correlationId: corr, occurredAt: at(base) })),
    newEvent('connector.handshake', { ...s['connector.handshake'], status: 'COMPLETED', error: null }, ctx({ correlationId: corr, occurredAt: at(base + 1) })),
    newEvent('connector.schema.checked', { ...s['connector.schema.checked'], status: status === 'READY' ? 'PASS' : 'FAIL' }, ctx({ correlationId: corr, occurredAt: at(base + 2) })),
    newEvent('connector.credentials.audited', { ...s['connector.credentials.audited'], status: 'PASS' }, ctx({ correlationId: corr, occurredAt: at(base + 2) })),
    ...(status === 'FAILED' ? [newEvent('connector.incident.opened', s['connector.incident.opened'], ctx({ correlationId: corr, occurredAt: at(base + 3) }))] : []),
    newEvent('connector.validated', { ...s['connector.validated'], status, reason: status === 'READY' ? null : 'SCHEMA_MISMATCH', durationMs: 1000 + base }, ctx({ correlationId: corr, occurredAt: at(base + 4) })),
  ];
}

const resolved = (corr: string, sec: number, over: Partial<(typeof s)['connector.incident.resolved']> = {}): ConnectorEvent =>
  newEvent('connector.incident.resolved', { ...s['connector.incident.resolved'], ...over }, ctx({ correlationId: corr, occurredAt: at(sec) }));

describe('evolve: connector state', () => {
  it('walks REGISTERED → HANDSHAKING → VALIDATING → READY with history and receipt', () => {
    const seen: string[] = [];
    let c: ConnectorState | undefined;
    for (const e of attempt('READY')) {
      c = evolveConnector(c, e);
      seen.push(c.status);
    }
    expect(seen).toEqual(['HANDSHAKING', 'VALIDATING', 'VALIDATING', 'VALIDATING', 'READY']);
    expect(c!.history).toHaveLength(5);
    expect(c!.lastReceipt).toMatchObject({ status: 'READY', attemptId: 'a1' });
    expect(c!.attempts).toBe(1);
  });

  it('a registration without autoPreflight stays REGISTERED; a failed handshake does not advance', () => {
    const reg = evolveConnector(undefined, newEvent('connector.registered', { spec: s['connector.registered'].spec, autoPreflight: false }, ctx()));
    expect(reg.status).toBe('REGISTERED');
    const hs = evolveConnector(evolveConnector(reg, newEvent('connector.handshake.requested', { spec: reg.spec, operationId: null, reason: null }, ctx({ correlationId: 'a2' }))), newEvent('connector.handshake', { ...s['connector.handshake'], status: 'FAILED' }, ctx({ correlationId: 'a2' })));
    expect(hs.status).toBe('HANDSHAKING');
  });

  it('tracks incidents and alerts; a later passing check resolves an earlier incident; stale attempts do not regress state', () => {
    let c: ConnectorState | undefined;
    for (const e of attempt('FAILED')) c = evolveConnector(c, e);
    expect(c!.status).toBe('FAILED');
    expect(c!.openIncidents).toHaveLength(1);
    c = evolveConnector(c, newEvent('connector.alert.raised', s['connector.alert.raised'], ctx()));
    expect(c.alerts).toHaveLength(1);
    for (const e of attempt('READY', 'a2', 10).slice(1)) c = evolveConnector(c, e);
    c = evolveConnector(c, newEvent('connector.handshake.requested', { spec: c.spec, operationId: null, reason: null }, ctx({ correlationId: 'a2', occurredAt: at(9) })));
    for (const e of attempt('READY', 'a2', 10).slice(1)) c = evolveConnector(c, e);
    expect(c.status).toBe('READY');
    // READY alone resolves nothing: the schema check that passed says which problem is gone.
    expect(c.openIncidents).toHaveLength(1);
    c = evolveConnector(c, resolved('a2', 12));
    expect(c.openIncidents).toEqual([]);
    expect(c.resolvedIncidents).toEqual([expect.objectContaining({ status: 'resolved', resolvedAt: at(12).toISOString(), resolution: expect.objectContaining({ attemptId: 'a2', reason: 'PASSED' }) })]);
    const stale = evolveConnector(c, newEvent('connector.validated', { ...s['connector.validated'], status: 'FAILED' }, ctx({ correlationId: 'a1' })));
    expect(stale.status).toBe('READY');
  });

  it('a repeat of the same failure updates one open incident; a later passing check resolves it', () => {
    let c: ConnectorState | undefined;
    for (const e of attempt('FAILED')) c = evolveConnector(c, e);
    const opened = s['connector.incident.opened'];
    // The second attempt fails the same way: same incident id, another attempt.
    c = evolveConnector(c, newEvent('connector.incident.opened', { ...opened, summary: 'again' }, ctx({ correlationId: 'a2', occurredAt: at(6) })));
    // A redelivery of that event changes nothing.
    c = evolveConnector(c, newEvent('connector.incident.opened', { ...opened, summary: 'again' }, ctx({ correlationId: 'a2', occurredAt: at(6) })));
    expect(c.openIncidents).toEqual([expect.objectContaining({ incidentId: opened.incidentId, occurrences: 2, lastAttemptId: 'a2', lastSeenAt: at(6).toISOString(), summary: 'again' })]);
    c = evolveConnector(c, newEvent('connector.handshake.requested', { spec: c.spec, operationId: null, reason: null }, ctx({ correlationId: 'a3', occurredAt: at(9) })));
    for (const e of attempt('READY', 'a3', 10).slice(1)) c = evolveConnector(c, e);
    c = evolveConnector(c, resolved('a3', 12));
    expect(c.openIncidents).toEqual([]);
    expect(c.resolvedIncidents).toEqual([expect.objectContaining({ incidentId: opened.incidentId, occurrences: 2, resolvedAt: at(12).toISOString() })]);
  });

  it('incidents are the same whatever the order of opened/resolved events (a rebuild from the log): resolve, supersede, reopen', () => {
    const opened = (id: string, corr: string, sec: number): ConnectorEvent => newEvent('connector.incident.opened', { ...s['connector.incident.opened'], incidentId: id, summary: `${id} in ${corr}` }, ctx({ correlationId: corr, occurredAt: at(sec) }));
    // A fails twice, a3 fails differently (B supersedes A), a4 passes (B resolved), a5 brings A back.
    const log = [opened('A', 'a1', 1), opened('A', 'a2', 2), resolved('a3', 3, { incidentId: 'A', reason: 'SUPERSEDED', supersededBy: 'B' }), opened('B', 'a3', 3), resolved('a4', 4, { incidentId: 'B' }), opened('A', 'a5', 5)];
    const fold = (events: ConnectorEvent[]): Pick<ConnectorState, 'openIncidents' | 'resolvedIncidents'> => {
      let c: ConnectorState | undefined;
      for (const e of events) c = evolveConnector(c, e);
      return JSON.parse(JSON.stringify({ openIncidents: c!.openIncidents, resolvedIncidents: c!.resolvedIncidents })) as Pick<ConnectorState, 'openIncidents' | 'resolvedIncidents'>;
    };
    const inOrder = fold(log);
    expect(inOrder.openIncidents).toEqual([expect.objectContaining({ incidentId: 'A', status: 'open', occurrences: 3, lastAttemptId: 'a5', resolution: expect.objectContaining({ reason: 'SUPERSEDED', supersededBy: 'B' }) })]);
    expect(inOrder.openIncidents[0]).not.toHaveProperty('resolvedAt');
    expect(inOrder.resolvedIncidents).toEqual([expect.objectContaining({ incidentId: 'B', status: 'resolved', occurrences: 1, resolvedAt: at(4).toISOString() })]);
    // Topics are read in parallel on a rebuild: every interleaving must give the same incidents.
    const orders = [[...log].reverse(), [log[2]!, log[4]!, log[0]!, log[5]!, log[3]!, log[1]!], [log[4]!, log[3]!, log[2]!, log[1]!, log[0]!, log[5]!], [log[5]!, log[2]!, log[0]!, log[4]!, log[1]!, log[3]!]];
    for (const order of orders) expect(fold(order)).toEqual(inOrder);
    // Without A's comeback it is resolved, and stays so when a stale occurrence arrives late.
    const withoutComeback = fold(log.slice(0, 5));
    expect(withoutComeback.openIncidents).toEqual([]);
    expect(withoutComeback.resolvedIncidents!.map((i) => i.incidentId)).toEqual(['A', 'B']);
  });

  it('a snapshot written before connector.incident.resolved keeps its resolved incidents resolved', () => {
    let c: ConnectorState | undefined;
    for (const e of attempt('FAILED')) c = evolveConnector(c, e);
    const legacy = { ...c!, openIncidents: [], resolvedIncidents: c!.openIncidents.map(({ status: _, ...i }) => ({ ...i, resolvedAt: at(9).toISOString() })) } as unknown as ConnectorState;
    const next = evolveConnector(legacy, newEvent('connector.incident.opened', { ...s['connector.incident.opened'], incidentId: 'OTHER' }, ctx({ correlationId: 'a2', occurredAt: at(11) })));
    expect(next.resolvedIncidents).toEqual([expect.objectContaining({ incidentId: s['connector.incident.opened'].incidentId, status: 'resolved', resolvedAt: at(9).toISOString() })]);
    expect(next.openIncidents.map((i) => i.incidentId)).toEqual(['OTHER']);
  });

  it('AWAITING_APPROVAL while a security admin must approve', () => {
    let c = evolveConnector(undefined, attempt('READY')[0]!);
    c = evolveConnector(c, newEvent('connector.approval.requested', s['connector.approval.requested'], ctx()));
    expect(c.status).toBe('AWAITING_APPROVAL');
    expect(c.pendingApproval).toMatchObject({ policy: 'pii-in-production', requiredRole: 'security_admin' });
  });
});

describe('projection: metrics and operations', () => {
  it('computes semantic rates and duration percentiles per tenant and overall', () => {
    const p = new Projection();
    for (const e of [...attempt('READY', 'a1', 0), ...attempt('FAILED', 'a2', 10)]) p.apply(e);
    for (const e of attempt('READY', 'b1', 20).map((e) => ({ ...e, tenantId: 'other', connectorId: 'other.x', eventId: `${e.eventId}-b` }))) p.apply(e);
    const all = p.metrics();
    expect(all.handshake_success_rate).toBe(1);
    expect(all.schema_validation_pass_rate).toBe(0.6667);
    expect(all.preflight_ready_rate).toBe(0.6667);
    expect(all.preflight_duration_ms).toMatchObject({ count: 3, p50: 1010, p99: 1020 });
    expect(p.metrics('acme').preflight_ready_rate).toBe(0.5);
    expect(p.metrics('other').connectors_by_state.READY).toBe(1);
  });

  it('applies an event once', () => {
    const p = new Projection();
    const e = attempt('READY')[0]!;
    expect(p.apply(e)).toBe(true);
    expect(p.apply(e)).toBe(false);
    expect(p.connectors.get('acme.crm')!.history).toHaveLength(1);
  });

  it('operations: idempotency key returns the same operation; the outcome completes it; the deadline fails it as TIMEOUT', () => {
    const p = new Projection();
    const a = p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: 'k1', timeoutMs: 60_000, now: at(0) });
    expect(a.created).toBe(true);
    expect(p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: 'k1', timeoutMs: 60_000, now: at(0) }).op.id).toBe(a.op.id);
    expect(p.createOperation({ connectorId: 'acme.crm', tenantId: 'other', idempotencyKey: 'k1', timeoutMs: 60_000, now: at(0) }).op.id).not.toBe(a.op.id);
    p.apply(newEvent('connector.validated', { ...s['connector.validated'], status: 'READY' }, ctx({ correlationId: a.op.attemptId })));
    expect(p.operations.get(a.op.id)).toMatchObject({ status: 'SUCCEEDED', done: true, result: { status: 'READY' } });
    const b = p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: null, timeoutMs: 1_000, now: at(0) });
    p.expireOperations(at(2));
    expect(p.operations.get(b.op.id)).toMatchObject({ status: 'FAILED', done: true, error: { code: 'TIMEOUT' } });
  });

  it('operations: a cancel marks the request at once and the CANCELLED outcome ends it; owner, cancel and task counts survive a snapshot and a rebuild from the log', () => {
    const p = new Projection();
    const owner = { principal: 'agent-1', team: 'team-crm' };
    const { op } = p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: 'k', timeoutMs: 60_000, owner, now: at(0) });
    expect(p.requestCancel(op.id, at(1))).toMatchObject({ cancelRequestedAt: at(1).toISOString(), done: false });
    const spec = { ...s['connector.handshake.requested'].spec, owner: 'team-crm' };
    const events = [
      newEvent('connector.handshake.requested', { spec, operationId: op.id, reason: null }, ctx({ correlationId: op.attemptId, actor: 'user:agent-1', idempotencyKey: op.idempotencyKey!, occurredAt: at(0) })),
      newEvent('connector.cancel.requested', { operationId: op.id, reason: 'stop' }, ctx({ correlationId: op.attemptId, actor: 'user:agent-1', occurredAt: at(1) })),
      newEvent('connector.validated', { ...s['connector.validated'], status: 'FAILED', reason: 'CANCELLED', validatedBy: 'user:agent-1 (cancelled)' }, ctx({ correlationId: op.attemptId, occurredAt: at(3) })),
    ];
    for (const e of events) p.apply(e);
    expect(p.operations.get(op.id)).toMatchObject({ status: 'CANCELLED', done: true, owner, cancelRequestedAt: at(1).toISOString(), error: { code: 'CANCELLED', message: 'cancelled by user:agent-1' } });
    expect(p.taskMetrics()).toMatchObject({ byTeam: { 'team-crm': { started: 1, cancelled: 1, completed: { READY: 0, FAILED: 0 } } }, task_duration_ms: { count: 1, p50: 3_000 } });
    // A restart restores it from the snapshot; a rebuild folds the same from the events alone.
    const restored = Projection.fromSnapshot(JSON.parse(JSON.stringify(p.toSnapshot())) as ReturnType<Projection['toSnapshot']>);
    expect(restored.operations.get(op.id)).toEqual(p.operations.get(op.id));
    expect(restored.taskMetrics()).toEqual(p.taskMetrics());
    const rebuilt = new Projection();
    for (const e of events) rebuilt.apply(e);
    expect(rebuilt.operations.get(op.id)).toMatchObject({ status: 'CANCELLED', owner, cancelRequestedAt: at(1).toISOString() });
    expect(rebuilt.taskMetrics().byTeam).toEqual(p.taskMetrics().byTeam);
    // A deadline passed without an outcome counts as timed out (and failed, by code).
    const late = p.createOperation({ connectorId: 'acme.crm', tenantId: 'acme', idempotencyKey: null, timeoutMs: 1_000, owner, now: at(10) });
    p.expireOperations(at(12));
    expect(p.operations.get(late.op.id)).toMatchObject({ status: 'FAILED', error: { code: 'TIMEOUT' } });
    expect(p.taskMetrics().byTeam['team-crm']).toMatchObject({ started: 2, timedOut: 1, failed: { TIMEOUT: 1 } });
  });

  it('a snapshot round-trips to the same view', () => {
    const p = new Projection();
    const events = [...attempt('READY', 'a1', 0), ...attempt('FAILED', 'a2', 10)];
    for (const e of events) p.apply(e);
    const q = Projection.fromSnapshot(JSON.parse(JSON.stringify(p.toSnapshot())));
    expect(q.view()).toEqual(p.view());
    expect(q.apply(events[0]!)).toBe(false);
  });
});

describe('auth', () => {
  const auth = new Authenticator({ mode: 'hs256', secret: 'unit-secret' });
  it('accepts a valid token and reads roles and tenant', async () => {
    const p = await auth.verify(`Bearer ${await signDevToken({ sub: 'ann', roles: ['tenant_data_engineer'], tenant: 'acme' }, 'unit-secret')}`);
    expect(p).toEqual({ subject: 'ann', roles: ['tenant_data_engineer'], tenant: 'acme' });
  });

  it('rejects missing, malformed, forged and expired tokens with clear reasons', async () => {
    await expect(auth.verify(undefined)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: /missing bearer token/ });
    await expect(auth.verify('Basic abc')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(auth.verify(`Bearer ${await signDevToken({ roles: ['platform_admin'], tenant: 'x' }, 'other-secret')}`)).rejects.toMatchObject({ message: 'the token signature is not valid' });
    await expect(auth.verify(`Bearer ${await signDevToken({ roles: ['platform_admin'], tenant: 'x' }, 'unit-secret', '-1s')}`)).rejects.toMatchObject({ message: 'the token has expired' });
    await expect(auth.verify(`Bearer ${await signDevToken({ roles: [] , tenant: 'x' }, 'unit-secret')}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('verifies RS256 with a configured public key and refuses an HS256 token there', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = new Authenticator({ mode: 'rs256', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const good = await new SignJWT({ roles: ['security_admin'], tenant: 'acme' }).setProtectedHeader({ alg: 'RS256' }).setSubject('sec').setExpirationTime('1h').sign(privateKey);
    expect((await rs.verify(`Bearer ${good}`)).roles).toEqual(['security_admin']);
    await expect(rs.verify(`Bearer ${await signDevToken({ roles: ['platform_admin'], tenant: 'x' }, 'whatever')}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('role and tenant rules', () => {
    const eng: Principal = { subject: 'e', roles: ['tenant_data_engineer'], tenant: 'acme' };
    const obs: Principal = { subject: 'o', roles: ['observability_engineer'], tenant: '' };
    expect(can(eng, 'register')).toBe(true);
    expect(can(eng, 'approve')).toBe(false);
    expect(can(obs, 'register')).toBe(false);
    expect(can(obs, 'observe')).toBe(true);
    expect(mayAccessTenant(eng, 'other')).toBe(false);
    expect(mayAccessTenant(obs, 'other')).toBe(true);
  });
});

describe('registration validation', () => {
  const eng: Principal = { subject: 'e', roles: ['tenant_data_engineer'], tenant: 'acme' };
  it('reports every invalid field at once, including config and contract fields, and never a secret', () => {
    const r = validateRegistration({ name: 'bad name!', sourceType: 'postgres', config: { host: 'db', password: 'hunter2' }, contract: 'apiVersion: v3.0.2\nkind: Nope\n', environment: 'prod', tenant: 'other' }, eng);
    expect(r.issues.map((i) => i.field)).toEqual(['name', 'config.password', 'config.database', 'config.user', 'config.secretRef', 'contract.kind', 'contract.id', 'contract.version', 'contract.status', 'contract.schema', 'environment', 'tenant']);
    expect(JSON.stringify(r)).not.toContain('hunter2');
    expect(r.contractFacts).toBeUndefined();
  });

  it('builds the spec for a valid registration in the caller\'s tenant', () => {
    const contract = 'apiVersion: v3.0.2\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n      - name: id\n        logicalType: integer\n';
    const r = validateRegistration({ name: 'crm', sourceType: 'files', config: { path: '/data' }, contract }, eng);
    expect(r.issues).toEqual([]);
    expect(r.tenant).toBe('acme');
    expect(JSON.parse(r.spec!.configJson)).toEqual({ type: 'files', path: '/data' });
    // The contract parsed to validate it is not parsed again downstream: its facts go with the registration.
    expect(r.contractFacts).toEqual({ id: 'c', version: '1.0.0', datasets: [{ name: 't', namespace: null, fields: [{ name: 'id', type: 'integer', pii: false }] }], piiFields: [], server: null });
  });

  it('reports a contract the same way when it was checked before, and one caller cannot change what the next is told', () => {
    const contract = 'apiVersion: v3.0.2\nkind: Nope\nid: remembered\n';
    const body = { name: 'crm', sourceType: 'files', config: { path: '/data' }, contract };
    const first = validateRegistration(body, eng);
    expect(first.issues.map((i) => i.field)).toEqual(['contract.kind', 'contract.version', 'contract.status', 'contract.schema']);
    first.issues[0]!.message = 'tampered';
    first.issues.length = 0;
    const again = validateRegistration(body, eng);
    expect(again.issues.map((i) => i.field)).toEqual(['contract.kind', 'contract.version', 'contract.status', 'contract.schema']);
    expect(again.issues[0]!.message).toBe('must be DataContract');
    // A valid contract checked before still yields a spec.
    const valid = 'apiVersion: v3.0.2\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n      - name: id\n';
    expect(validateRegistration({ ...body, contract: valid }, eng).spec).toBeDefined();
    expect(validateRegistration({ ...body, contract: valid }, eng).spec?.contractYaml).toBe(valid);
  });

  it('keeps the remembered contract checks bounded in entries and in text', () => {
    const body = { name: 'crm', sourceType: 'files', config: { path: '/data' } };
    for (let i = 0; i < 300; i++) validateRegistration({ ...body, contract: `apiVersion: v3.0.2\nkind: Nope\nid: c${i}\n` }, eng);
    expect(contractCheckCacheUsage().entries).toBe(256);
    const big = `apiVersion: v3.0.2\nkind: Nope\nid: big\ndescription: "${'x'.repeat(400_000)}"\n`;
    for (let i = 0; i < 12; i++) validateRegistration({ ...body, contract: `${big}# ${i}\n` }, eng);
    expect(contractCheckCacheUsage().chars).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(contractCheckCacheUsage().entries).toBeLessThan(256);
    // Too big to keep at all: checked, and not remembered.
    const before = contractCheckCacheUsage();
    const huge = `apiVersion: v3.0.2\nkind: Nope\nid: huge\ndescription: "${'x'.repeat(600_000)}"\n`;
    expect(validateRegistration({ ...body, contract: huge }, eng).issues.map((i) => i.field)).toContain('contract.kind');
    expect(contractCheckCacheUsage()).toEqual(before);
  });
});
