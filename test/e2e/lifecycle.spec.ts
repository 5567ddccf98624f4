import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readTopics } from '@preflight/bus';
import { newEvent } from '@preflight/events';
import { eventually } from '@preflight/testkit';
import { runFeature, Steps } from '../support/gherkin.js';
import { JWT_SECRET, startTestPlatform, type TestPlatform } from '../support/platform.js';

const bin = fileURLToPath(new URL('../../packages/cli/bin/preflight.mjs', import.meta.url));

interface World {
  p: TestPlatform;
  token: string;
  connectorId: string;
  firstAttempt: string;
  update?: { status: number; body: any };
}

let platform: Promise<TestPlatform> | undefined;
const started = (): Promise<TestPlatform> => (platform ??= startTestPlatform());

async function call(p: TestPlatform, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${p.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

function cli(p: TestPlatform, args: string[], token: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--api', p.url], { env: { ...process.env, PREFLIGHT_JWT_SECRET: JWT_SECRET, PREFLIGHT_TOKEN: token }, cwd: tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const connector = async (w: World): Promise<any> => (await call(w.p, 'GET', `/api/connectors/${encodeURIComponent(w.connectorId)}`, w.token)).body;

async function register(p: TestPlatform, token: string, name: string): Promise<{ connectorId: string; attemptId: string }> {
  const r = await call(p, 'POST', '/api/connectors', token, { name, sourceType: 'files', config: { path: p.demoDir }, contract: p.contract('customers.odcs.yaml'), autoPreflight: true });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function updateContract(w: World, contract: string): Promise<void> {
  w.update = await call(w.p, 'PATCH', `/api/connectors/${encodeURIComponent(w.connectorId)}`, w.token, { contract, reason: 'e2e contract change' });
  expect(w.update.status, JSON.stringify(w.update.body)).toBe(202);
}

/** The connector's outcome for the attempt the last update started. */
async function updateOutcome(w: World): Promise<any> {
  const attemptId = w.update!.body.attemptId as string;
  let c: any;
  await eventually(`outcome of ${attemptId}`, async () => {
    c = await connector(w);
    return c.lastReceipt?.attemptId === attemptId;
  }, { timeoutMs: 60_000 });
  return c;
}

const steps = new Steps<World>()
  .define('a files connector with its agreed contract is READY', async (w) => {
    const r = await register(w.p, w.token, `life-${randomBytes(4).toString('hex')}`);
    w.connectorId = r.connectorId;
    w.firstAttempt = r.attemptId;
    await eventually('READY', async () => (await connector(w))?.status === 'READY', { timeoutMs: 60_000 });
  })
  .define('its contract is updated to a version that adds a required field', (w) => updateContract(w, w.p.contract('customers-drifted.odcs.yaml')))
  .define('its contract is updated with a quality rule the source does not meet', (w) => updateContract(w, w.p.contract('customers.odcs.yaml').replace('validValues: [DE, FR, NL, US]', 'validValues: [DE]')))
  .define(/^the update answers with a changelog classifying "([A-Z_]+)" on "([^"]+)" as breaking$/, async (w, kind, path) => {
    const b = w.update!.body;
    expect(b).toMatchObject({ connectorId: w.connectorId, changed: ['contract'], approvalRequired: false, changelog: { from: '1.0.0', to: '2.0.0', breaking: true } });
    expect(b.changelog.changes).toContainEqual(expect.objectContaining({ kind, path, breaking: true }));
    // Loosened rules are classified too, as non-breaking.
    expect(b.changelog.changes).toContainEqual(expect.objectContaining({ kind: 'QUALITY_REMOVED', breaking: false }));
  })
  .define('the connector leaves READY and is preflighted again', async (w) => {
    const c = await updateOutcome(w);
    expect(c.status).toBe('FAILED');
    expect(c.lastReceipt.reason).toMatch(/SCHEMA_MISMATCH/);
    expect(c.attemptLog.map((a: { attemptId: string }) => a.attemptId)).toEqual([w.firstAttempt, w.update!.body.attemptId]);
    expect(c.lastChange).toMatchObject({ changed: ['contract'], actor: 'user:erin', reason: 'e2e contract change', changelog: { breaking: true } });
    expect(c.history.map((h: { eventType: string }) => h.eventType)).toContain('connector.updated');
  })
  .define('the new receipt shows the classified changelog', async (w) => {
    const res = await fetch(`${w.p.url}/api/connectors/${encodeURIComponent(w.connectorId)}/receipt`, { headers: { authorization: `Bearer ${w.token}`, accept: 'application/yaml' } });
    const yaml = await res.text();
    expect(yaml).toMatch(/^contract_change:\n/m);
    expect(yaml).toMatch(/path: customers\.loyalty_tier\n\s+kind: FIELD_ADDED\n\s+breaking: true/);
    expect(yaml).toMatch(/from_version: 1\.0\.0\n\s+to_version: 2\.0\.0\n\s+breaking: true/);
  })
  .define('the connector is deregistered because {string}', async (w, reason) => {
    const r = await call(w.p, 'DELETE', `/api/connectors/${encodeURIComponent(w.connectorId)}?reason=${encodeURIComponent(reason)}`, w.token);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    await eventually('RETIRED', async () => (await connector(w)).status === 'RETIRED', { timeoutMs: 30_000 });
    expect((await connector(w)).retired).toMatchObject({ actor: 'user:erin', reason });
  })
  .define('it is gone from the default connector list but listed with include=retired', async (w) => {
    const ids = async (q: string): Promise<string[]> => (await call(w.p, 'GET', `/api/connectors?limit=500${q}`, w.token)).body.connectors.map((c: { connectorId: string }) => c.connectorId);
    expect(await ids('')).not.toContain(w.connectorId);
    expect(await ids('&include=retired')).toContain(w.connectorId);
    expect(await ids('&state=RETIRED')).toContain(w.connectorId);
  })
  .define('its history and receipt are still readable by id', async (w) => {
    const c = await connector(w);
    expect(c.history.map((h: { eventType: string }) => h.eventType)).toEqual(expect.arrayContaining(['connector.registered', 'connector.validated', 'connector.deregistered']));
    const receipt = await call(w.p, 'GET', `/api/connectors/${encodeURIComponent(w.connectorId)}/receipt`, w.token);
    expect(receipt).toMatchObject({ status: 200, body: { status: 'READY', attemptId: w.firstAttempt } });
  })
  .define('a further preflight through the API is refused with a reason', async (w) => {
    const r = await call(w.p, 'POST', `/api/connectors/${encodeURIComponent(w.connectorId)}/preflight`, w.token, {});
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/deregistered .* by user:erin \(source decommissioned\); a retired connector is not preflighted/) });
  })
  .define('a preflight requested on the bus ends FAILED with reason {string}', async (w, reason) => {
    // An upstream system that talks to Kafka directly, not through the API.
    const c = await connector(w);
    const attemptId = randomUUID();
    await w.p.bus.producer.publish(newEvent('connector.handshake.requested', { spec: { ...c.spec, configJson: JSON.stringify(c.spec.config), config: undefined } as never, operationId: null, reason: 'upstream' }, { producer: 'e2e@1', tenantId: 'acme', connectorId: w.connectorId, correlationId: attemptId, actor: 'system:upstream' }));
    await eventually('refused outcome', async () => (await connector(w)).attemptLog.some((a: { attemptId: string; outcome: unknown }) => a.attemptId === attemptId && a.outcome), { timeoutMs: 60_000 });
    const after = await connector(w);
    expect(after.attemptLog.find((a: { attemptId: string }) => a.attemptId === attemptId).outcome).toMatchObject({ status: 'FAILED', reason });
    expect(after.status).toBe('RETIRED');
    expect(after.history.find((h: { attemptId: string; eventType: string }) => h.attemptId === attemptId && h.eventType === 'connector.handshake').summary).toMatch(/^DEREGISTERED: the connector was deregistered at .* by user:erin \(source decommissioned\)/);
  })
  .define('its state record on the compacted state topic is tombstoned', async (w) => {
    let records: Array<{ key: string; tombstone: boolean }> = [];
    await eventually('tombstone on the state topic', async () => {
      records = [];
      await readTopics(w.p.bus.kafka, [w.p.bus.topics.state], (_t, _p, _o, value, key) => void records.push({ key: key?.toString() ?? '', tombstone: value === null }));
      return records.some((r) => r.key === w.connectorId && r.tombstone);
    }, { timeoutMs: 30_000 });
    const live = records.filter((r) => r.key === w.connectorId);
    expect(live.at(-1)?.tombstone).toBe(true);
    expect(records.some((r) => r.key === `retired|${w.connectorId}` && !r.tombstone)).toBe(true);
  })
  .define(/^the gate for its dataset "([^"]+)" passes, and "preflight gate" exits 0$/, async (w, dataset) => {
    const name = `${w.connectorId}:${dataset}`;
    const g = await call(w.p, 'GET', `/api/release-readiness/${encodeURIComponent(name)}`, w.token);
    expect(g).toMatchObject({ status: 200, body: { pass: true, verdict: 'pass', failing: [] } });
    expect(g.body.rows[0]).toMatchObject({ tenant: 'acme', dataset, connector: w.connectorId, schemaAdherence: 'PASS', dataQuality: 'PASS', lastCheckpoint: { attemptId: w.firstAttempt, status: 'READY' }, evidence: { receipt: `/api/connectors/${w.connectorId}/receipt` } });
    const matrix = await call(w.p, 'GET', `/api/release-readiness?connector=${encodeURIComponent(w.connectorId)}`, w.token);
    expect(matrix.body.datasets.map((r: { dataset: string }) => r.dataset)).toEqual([dataset]);
    const run = await cli(w.p, ['gate', name], w.token);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^PASS ${name}`));
  })
  .define(/^the gate for its dataset "([^"]+)" fails naming "([a-z_]+)" on "([a-z_]+)", and "preflight gate" exits 1$/, async (w, dataset, expectation, column) => {
    await updateOutcome(w);
    const name = `${w.connectorId}:${dataset}`;
    const g = await call(w.p, 'GET', `/api/release-readiness/${encodeURIComponent(name)}`, w.token);
    expect(g).toMatchObject({ status: 200, body: { pass: false, verdict: 'fail' } });
    expect(g.body.rows[0]).toMatchObject({ connectorStatus: 'FAILED', schemaAdherence: 'PASS', dataQuality: 'FAIL' });
    expect(g.body.failing).toContainEqual(expect.objectContaining({ connector: w.connectorId, dataset, expectation, column }));
    const run = await cli(w.p, ['gate', name], w.token);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`failing ${expectation} (${column})`);
  });

afterAll(async () => {
  if (platform) await (await platform).stop();
});

runFeature(new URL('../features/lifecycle.feature', import.meta.url), {
  steps,
  world: async () => {
    const p = await started();
    return { p, token: await p.token('tenant_data_engineer', 'acme', 'erin'), connectorId: '', firstAttempt: '' };
  },
  dispose: async () => undefined,
});

describe('lifecycle API rules', () => {
  it('PATCH and DELETE keep registration\'s validation, roles and tenant rules; a breaking change in production waits for a security admin', async () => {
    const p = await started();
    const eng = await p.token('tenant_data_engineer', 'acme', 'erin');
    const { connectorId } = await register(p, eng, `rules-${randomBytes(4).toString('hex')}`);
    await eventually('known', async () => (await call(p, 'GET', `/api/connectors/${connectorId}`, eng)).status === 200, { timeoutMs: 30_000 });
    const path = `/api/connectors/${encodeURIComponent(connectorId)}`;
    // Every invalid field at once, named; identity fields cannot change; no secret echoed.
    const bad = await call(p, 'PATCH', path, eng, { name: 'other', config: { path: p.demoDir, password: 'hunter2' }, environment: 'moon', colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field)).toEqual(expect.arrayContaining(['name', 'colour', 'environment']));
    expect(JSON.stringify(bad.body)).not.toContain('hunter2');
    // A path outside the tenant's files root is refused by the tenant scope, as at registration.
    const escape = await call(p, 'PATCH', path, eng, { config: { path: '/etc' } });
    expect(escape.status).toBe(400);
    expect(escape.body.issues[0].field).toMatch(/^config\.path$|^path$/);
    // Roles: an observability engineer may read but not change; another tenant sees nothing.
    const obs = await p.token('observability_engineer', '');
    expect((await call(p, 'PATCH', path, obs, { reason: 'x' })).status).toBe(403);
    expect((await call(p, 'DELETE', path, obs)).status).toBe(403);
    const globex = await p.token('tenant_data_engineer', 'globex');
    expect((await call(p, 'PATCH', path, globex, { environment: 'staging' })).status).toBe(404);
    expect((await call(p, 'DELETE', path, globex)).status).toBe(404);
    expect((await call(p, 'GET', `/api/release-readiness/${encodeURIComponent(`${connectorId}:customers`)}`, globex)).status).toBe(404);
    // Nothing to change is an answer, not an event.
    expect((await call(p, 'PATCH', path, eng, { environment: 'development' })).body).toMatchObject({ eventId: null, changed: [] });
    // A breaking change in production (the PII field removed, so only this rule applies) always
    // preflights, and that preflight waits for a security admin through the approvals route.
    const withoutEmail = p.contract('customers.odcs.yaml').replace(/ {6}- name: email\n[\s\S]*?mustBe: 0\n/, '');
    expect(withoutEmail).not.toContain('email');
    const prod = await call(p, 'PATCH', path, eng, { environment: 'production', contract: withoutEmail, autoPreflight: false });
    expect(prod).toMatchObject({ status: 202, body: { changed: ['contract', 'environment'], approvalRequired: true, attemptId: expect.any(String), changelog: { breaking: true } } });
    expect(prod.body.changelog.changes).toContainEqual(expect.objectContaining({ kind: 'FIELD_REMOVED', path: 'customers.email', breaking: true }));
    await eventually('awaiting approval', async () => (await call(p, 'GET', path, eng)).body.pendingApproval?.attemptId === prod.body.attemptId, { timeoutMs: 60_000 });
    expect((await call(p, 'GET', path, eng)).body).toMatchObject({ status: 'AWAITING_APPROVAL', pendingApproval: { policy: 'breaking-change-in-production', requiredRole: 'security_admin' } });
    const sec = await p.token('security_admin', 'acme', 'sam');
    expect((await call(p, 'POST', `${path}/approvals`, sec, { decision: 'APPROVED', comment: 'email moved to the CRM' })).status).toBe(202);
    await eventually('READY after approval', async () => (await call(p, 'GET', path, eng)).body.lastReceipt?.attemptId === prod.body.attemptId, { timeoutMs: 60_000 });
    expect((await call(p, 'GET', path, eng)).body).toMatchObject({ status: 'READY', lastReceipt: { validatedBy: 'user:sam (policy:breaking-change-in-production)' } });
    // DELETE twice: the second answers with the first retirement.
    expect((await call(p, 'DELETE', path, eng)).status).toBe(202);
    await eventually('retired', async () => (await call(p, 'GET', path, eng)).body.status === 'RETIRED', { timeoutMs: 30_000 });
    expect(await call(p, 'DELETE', path, eng)).toMatchObject({ status: 200, body: { eventId: null, retired: { actor: 'user:erin' } } });
    expect((await call(p, 'PATCH', path, eng, { reason: 'too late' })).status).toBe(409);
    // A retired id is not registered again.
    expect((await call(p, 'POST', '/api/connectors', eng, { name: connectorId.split('.')[1], sourceType: 'files', config: { path: p.demoDir }, contract: p.contract('customers.odcs.yaml') })).status).toBe(409);
  }, 120_000);

  it('preflight update shows the classified changelog, deregister retires once, gate exits 2 for an unknown dataset', async () => {
    const p = await started();
    const eng = await p.token('tenant_data_engineer', 'acme', 'erin');
    const { connectorId } = await register(p, eng, `cli-${randomBytes(4).toString('hex')}`);
    await eventually('known', async () => (await call(p, 'GET', `/api/connectors/${connectorId}`, eng)).status === 200, { timeoutMs: 30_000 });
    const dir = mkdtempSync(join(tmpdir(), 'update-'));
    writeFileSync(join(dir, 'v2.odcs.yaml'), p.contract('customers-drifted.odcs.yaml'));
    writeFileSync(join(dir, 'update.yaml'), 'contractFile: v2.odcs.yaml\nreason: loyalty tiers\nautoPreflight: false\n');
    const update = await cli(p, ['update', connectorId, join(dir, 'update.yaml')], eng);
    expect(update.code, update.stderr).toBe(0);
    expect(update.stdout).toContain(`updated ${connectorId}: contract (not preflighted`);
    expect(update.stdout).toContain('contract 1.0.0 → 2.0.0: 6 change(s), BREAKING');
    expect(update.stdout).toMatch(/breaking FIELD_ADDED +customers\.loyalty_tier/);
    const gone = await cli(p, ['deregister', connectorId, 'no', 'longer', 'needed'], eng);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain(`deregistered ${connectorId}`);
    await eventually('retired', async () => (await call(p, 'GET', `/api/connectors/${connectorId}`, eng)).body.retired?.reason === 'no longer needed', { timeoutMs: 30_000 });
    expect((await cli(p, ['deregister', connectorId], eng)).stdout).toContain(`${connectorId} was already deregistered at`);
    const unknown = await cli(p, ['gate', 'no-such-dataset'], eng);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/HTTP 404 NOT_FOUND: no contract of your tenants has a dataset no-such-dataset/);
  }, 120_000);
});
