import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@preflight/testkit';
import { signDevToken } from '@preflight/projector';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let p: TestPlatform;
let admin: string;
let eng: string;
beforeAll(async () => {
  p = await startTestPlatform();
  admin = await p.token('platform_admin', 'acme');
  eng = await p.token('tenant_data_engineer', 'acme', 'erin');
}, 120_000);
afterAll(async () => p?.stop());

async function call(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(`${p.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* YAML or Prometheus text */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

const spec = (name: string, contract: string, extra: Record<string, unknown> = {}) => ({ name, sourceType: 'files', config: { path: p.demoDir }, contract, environment: 'development', labels: { team: 'crm' }, autoPreflight: false, ...extra });

describe('HTTP API', () => {
  it('serves health, readiness and an OpenAPI document covering the routes', async () => {
    expect((await call('GET', '/healthz', null)).body).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz', null)).status).toBe(200);
    const doc = (await call('GET', '/openapi.json', null)).body;
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/connectors', '/api/connectors/{id}', '/api/connectors/{id}/receipt', '/api/connectors/{id}/preflight', '/api/operations/{id}', '/api/metrics', '/api/incidents', '/api/topics']));
  });

  it('rejects missing, forged and expired tokens with 401 and a clear body; wrong roles with 403', async () => {
    const none = await call('GET', '/api/connectors', null);
    expect(none).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', message: expect.stringMatching(/missing bearer token/) } });
    const forged = await signDevToken({ roles: ['platform_admin'], tenant: 'acme' }, 'not-the-secret');
    expect((await call('GET', '/api/connectors', forged)).body.message).toBe('the token signature is not valid');
    const expired = await signDevToken({ roles: ['platform_admin'], tenant: 'acme' }, 'platform-test-secret', '-10s');
    expect((await call('GET', '/api/connectors', expired)).body).toMatchObject({ code: 'UNAUTHORIZED', message: 'the token has expired' });
    const obs = await p.token('observability_engineer', '');
    const r = await call('POST', '/api/connectors', obs, spec('x', p.contract('customers.odcs.yaml')));
    expect(r).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts/);
  });

  it('reports every invalid registration field at once (400), and validate answers without registering', async () => {
    const bad = { name: 'no spaces allowed', sourceType: 'postgres', config: { host: 'db', port: 'five', password: 'hunter2' }, contract: 'kind: [', environment: 'moon', tenant: 'globex' };
    const r = await call('POST', '/api/connectors', eng, bad);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION');
    expect(r.body.issues.map((i: { field: string }) => i.field)).toEqual(['name', 'config.password', 'config.port', 'config.database', 'config.user', 'config.secretRef', 'contract.contract', 'environment', 'tenant']);
    expect(r.text).not.toContain('hunter2');
    const v = await call('POST', '/api/connectors/validate', eng, bad);
    expect(v).toMatchObject({ status: 200, body: { valid: false } });
    expect((await call('POST', '/api/connectors/validate', eng, spec('ok', p.contract('customers.odcs.yaml')))).body).toEqual({ valid: true, issues: [] });
    expect((await call('POST', '/api/connectors', eng, '{not json')).status).toBe(400);
    expect((await call('GET', '/api/connectors?state=SIDEWAYS', eng)).status).toBe(400);
    expect((await call('GET', '/api/nope', eng)).body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('registers, runs an idempotent async preflight to READY, and serves the receipt as JSON or YAML', async () => {
    const reg = await call('POST', '/api/connectors', eng, spec('customers', p.contract('customers.odcs.yaml')));
    expect(reg).toMatchObject({ status: 201, body: { connectorId: 'acme.customers' } });
    await eventually('registered', async () => (await call('GET', '/api/connectors/acme.customers', eng)).body.status === 'REGISTERED');
    const first = await call('POST', '/api/connectors/acme.customers/preflight', eng, {}, { 'idempotency-key': 'deploy-42' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ id: expect.any(String), status: 'PENDING', statusUrl: `/api/operations/${first.body.id}`, pollInterval: 1, ttl: expect.any(Number) });
    expect(first.headers.get('location')).toBe(first.body.statusUrl);
    const again = await call('POST', '/api/connectors/acme.customers/preflight', eng, {}, { 'idempotency-key': 'deploy-42' });
    expect(again.body.id).toBe(first.body.id);
    const done = await eventually('operation done', async () => {
      const op = await call('GET', first.body.statusUrl, eng);
      return op.body.done ? op.body : undefined;
    });
    expect(done).toMatchObject({ status: 'SUCCEEDED', result: { status: 'READY', validatedBy: 'policy:auto-approve' } });
    const yaml = await call('GET', '/api/connectors/acme.customers/receipt', eng, undefined, { accept: 'application/yaml' });
    expect(yaml.headers.get('content-type')).toMatch(/yaml/);
    expect(yaml.text).toMatch(/^status: READY$/m);
    const json = await call('GET', '/api/connectors/acme.customers/receipt', eng);
    expect(json.body).toMatchObject({ status: 'READY', receipt: { status: 'READY', connector: { id: 'acme.customers' } } });
    const detailYaml = await call('GET', '/api/connectors/acme.customers', eng, undefined, { accept: 'application/yaml' });
    expect(detailYaml.text).toMatch(/^status: READY$/m);
    const listed = (await call('GET', '/api/connectors?state=READY', eng)).body.connectors as Array<{ connectorId: string; lastReceipt: Record<string, unknown> | null }>;
    const item = listed.find((c) => c.connectorId === 'acme.customers');
    // A list page carries the receipt's verdict and where to get it, not its YAML (pages stay small).
    expect(item?.lastReceipt).toMatchObject({ status: 'READY', validatedBy: 'policy:auto-approve', url: '/api/connectors/acme.customers/receipt' });
    expect(item?.lastReceipt).not.toHaveProperty('yaml');
    expect(item).not.toHaveProperty('attemptLog');
    expect(item).toMatchObject({ attemptLogLength: 1, resolvedIncidentsCount: 0 });
    expect((await call('GET', '/api/connectors/acme.customers', eng)).body.lastReceipt.yaml).toMatch(/^status: READY$/m);
  });

  it('a schema mismatch ends FAILED with an open incident; metrics count it', async () => {
    await call('POST', '/api/connectors', eng, spec('customers-v2', p.contract('customers-drifted.odcs.yaml'), { autoPreflight: true }));
    await eventually('failed', async () => (await call('GET', '/api/connectors/acme.customers-v2', eng)).body.status === 'FAILED', { timeoutMs: 60_000 });
    const incidents = (await call('GET', '/api/incidents', eng)).body.incidents;
    expect(incidents).toEqual(expect.arrayContaining([expect.objectContaining({ connectorId: 'acme.customers-v2', kind: 'SCHEMA_MISMATCH' })]));
    // Filtered on the server, one page at a time.
    const one = (await call('GET', '/api/incidents?connector=acme.customers-v2&limit=1', eng)).body;
    expect(one.incidents).toEqual([expect.objectContaining({ connectorId: 'acme.customers-v2' })]);
    expect(one.total).toBe(incidents.filter((i: { connectorId: string }) => i.connectorId === 'acme.customers-v2').length);
    expect((await call('GET', '/api/incidents?limit=0', eng)).status).toBe(400);
    const m = (await call('GET', '/api/metrics', eng)).body;
    expect(m.tenant).toBe('acme');
    expect(m.metrics.preflight_ready_rate).toBeGreaterThan(0);
    expect(m.metrics.preflight_ready_rate).toBeLessThan(1);
    const prom = await call('GET', '/metrics', null);
    expect(prom.text).toMatch(/^handshake_success_rate(\{[^}]*\})? 1$/m);
    expect(prom.text).toMatch(/preflight_ready_rate/);
    expect(prom.text).toMatch(/connectors_by_state\{state="FAILED"\} [1-9]/);
  });

  it('keeps tenants apart: another tenant sees nothing and cannot touch acme\'s connectors', async () => {
    const globex = await p.token('tenant_data_engineer', 'globex');
    expect((await call('GET', '/api/connectors', globex)).body.connectors).toEqual([]);
    expect((await call('GET', '/api/connectors/acme.customers', globex)).status).toBe(404);
    expect((await call('GET', '/api/connectors/acme.customers/receipt', globex)).status).toBe(404);
    expect((await call('POST', '/api/connectors/acme.customers/preflight', globex)).status).toBe(404);
    expect((await call('GET', '/api/incidents', globex)).body.incidents).toEqual([]);
    expect((await call('GET', '/api/alerts', globex)).body).toEqual({ alerts: [], total: 0, nextCursor: null });
    expect((await call('GET', '/api/me', globex)).body).toEqual({ subject: 'dev-tenant_data_engineer', roles: ['tenant_data_engineer'], tenant: 'globex' });
    expect((await call('GET', '/api/metrics?tenant=acme', globex)).status).toBe(403);
    expect((await call('GET', '/api/connectors', admin)).body.connectors.length).toBeGreaterThanOrEqual(2);
  });

  it('PII in production waits for a security admin; only that role may approve', async () => {
    await call('POST', '/api/connectors', eng, spec('customers-prod', p.contract('customers.odcs.yaml'), { environment: 'production', autoPreflight: true }));
    await eventually('awaiting approval', async () => (await call('GET', '/api/connectors/acme.customers-prod', eng)).body.status === 'AWAITING_APPROVAL', { timeoutMs: 60_000 });
    expect((await call('POST', '/api/connectors/acme.customers-prod/approvals', eng, { decision: 'APPROVED' })).status).toBe(403);
    const sec = await p.token('security_admin', 'acme', 'sam');
    expect((await call('POST', '/api/connectors/acme.customers-prod/approvals', sec, { decision: 'MAYBE' })).status).toBe(400);
    expect((await call('POST', '/api/connectors/acme.customers-prod/approvals', sec, { decision: 'APPROVED', comment: 'reviewed the PII fields' })).status).toBe(202);
    await eventually('ready', async () => (await call('GET', '/api/connectors/acme.customers-prod', eng)).body.status === 'READY', { timeoutMs: 30_000 });
    const receipt = await call('GET', '/api/connectors/acme.customers-prod/receipt', eng, undefined, { accept: 'application/yaml' });
    expect(receipt.text).toMatch(/^validated_by: user:sam \(policy:pii-in-production\)$/m);
    expect((await call('POST', '/api/connectors/acme.customers-prod/approvals', sec, { decision: 'APPROVED' })).status).toBe(409);
  });

  it('topics show rates and lag to observers only; admins can rebuild the projection', async () => {
    const obs = await p.token('observability_engineer', '');
    const t = await call('GET', '/api/topics', obs);
    expect(t.status).toBe(200);
    // The view is sampled in the background every 2 s (a request never waits for the broker), so
    // the earlier tests' outcomes show in the next sample, not necessarily in the first answer.
    const validated = await eventually('validated messages sampled', async () => {
      const rows = (await call('GET', '/api/topics', obs)).body.topics as Array<{ topic: string; messages: number; lag: Array<{ group: string }>; deadLetters: number }>;
      const row = rows.find((x) => x.topic.endsWith('connector.validated'));
      return row && row.messages > 0 && row.lag.length > 0 ? row : undefined;
    }, { timeoutMs: 15_000 });
    expect(validated.messages).toBeGreaterThan(0);
    expect(validated.lag.map((l: { group: string }) => l.group)).toContain('readiness');
    expect(validated.deadLetters).toBe(0);
    // Bytes no service can decode: every consumer of the topic (handshake and the projector) dead-letters them, and ops can see by whom.
    const raw = p.bus.kafka.producer();
    await raw.connect();
    await raw.send({ topic: p.bus.topics.of('connector.registered'), messages: [{ key: 'acme.garbage', value: Buffer.from('not avro at all') }] });
    await raw.disconnect();
    const dead = await eventually('dead letters visible', async () => {
      const rows = (await call('GET', '/api/topics', obs)).body.topics as Array<{ topic: string; deadLetters: number; deadLettersByGroup: Array<{ group: string; count: number }> }>;
      const row = rows.find((x) => x.topic === p.bus.topics.of('connector.registered'));
      return row && row.deadLettersByGroup.length === 2 ? row : undefined;
    }, { timeoutMs: 30_000 });
    expect(dead.deadLetters).toBe(2);
    expect(dead.deadLettersByGroup).toEqual([{ group: 'handshake', count: 1 }, { group: 'projector', count: 1 }]);
    const prom = await (await fetch(`${p.url}/metrics`)).text();
    const topicLabel = p.bus.topics.of('connector.registered').replace(/\./g, '\\.');
    expect(prom).toMatch(new RegExp(`^dead_letter_messages\\{topic="${topicLabel}",group="handshake"\\} 1$`, 'm'));
    expect(prom).toMatch(new RegExp(`^dead_letter_messages\\{topic="${topicLabel}",group="projector"\\} 1$`, 'm'));
    expect((await call('GET', '/api/topics', eng)).status).toBe(403);
    expect((await call('POST', '/api/admin/rebuild', eng)).status).toBe(403);
    const before = (await call('GET', '/api/connectors/acme.customers', admin)).body.status;
    const r = await call('POST', '/api/admin/rebuild', admin);
    expect(r.body.connectors).toBeGreaterThanOrEqual(3);
    expect((await call('GET', '/api/connectors/acme.customers', admin)).body.status).toBe(before);
  });
});

describe('operation timeout', () => {
  it('an operation with no outcome before its deadline ends FAILED/TIMEOUT', async () => {
    const q = await startTestPlatform({ pipeline: false, operationTimeoutMs: 1_500 });
    try {
      const t = await q.token('platform_admin', 'acme');
      const h = { authorization: `Bearer ${t}`, 'content-type': 'application/json' };
      await fetch(`${q.url}/api/connectors`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'slow', sourceType: 'files', config: { path: q.demoDir }, contract: q.contract('customers.odcs.yaml'), autoPreflight: false }) });
      await eventually('known', async () => (await fetch(`${q.url}/api/connectors/acme.slow`, { headers: h })).status === 200);
      const op = (await (await fetch(`${q.url}/api/connectors/acme.slow/preflight`, { method: 'POST', headers: h, body: '{}' })).json()) as { statusUrl: string };
      const done = await eventually('timed out', async () => {
        const o = (await (await fetch(`${q.url}${op.statusUrl}`, { headers: h })).json()) as { done: boolean; status: string; error: { code: string } | null };
        return o.done ? o : undefined;
      });
      expect(done).toMatchObject({ status: 'FAILED', error: { code: 'TIMEOUT' } });
    } finally {
      await q.stop();
    }
  });
});
