import { afterAll, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { envNamespace, getConnector } from '@preflight/connectors';
import { contractFactsOf } from '@preflight/contracts';
import { evolveConnector, type ConnectorState } from '@preflight/projector';
import { newEvent, type ConnectorSpec } from '@preflight/events';
import { freePort } from '@preflight/local-infra';
import { eventually } from '@preflight/testkit';
import { runFeature, Steps } from '../support/gherkin.js';
import { contractYaml, disposeWorld, stopSharedPostgres, eventsOf, newWorld, registration, sharedPostgres, startServices, waitForEvent, type World } from './world.js';

type Variant = 'good' | 'over-privileged' | 'closed-port' | 'null-country' | 'null-email' | 'drops-after-handshake';

/**
 * A real TCP hop in front of PostgreSQL that carries the first connection (the handshake's) and
 * cuts every later one as soon as it opens: the source going away mid-preflight.
 */
async function flakyLink(world: World, targetPort: number): Promise<number> {
  let connections = 0;
  const open = new Set<Socket>();
  const server = createNetServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (++connections > 1) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(upstream);
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  world.stops.push(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

async function registerSource(world: World, variant: Variant = 'good'): Promise<void> {
  const { pg, readerPassword, adminPassword } = await sharedPostgres();
  const t = world.table;
  await pg.exec(`CREATE TABLE ${t} (id integer PRIMARY KEY, email text, country text, created_at timestamptz DEFAULT now())`);
  await pg.exec(
    `INSERT INTO ${t} SELECT g, 'user' || g || '@example.com', (ARRAY['DE','FR','NL','US'])[1 + g % 4], now() - g * interval '1 day' FROM generate_series(1, 200) g`,
  );
  if (variant === 'null-country') await pg.exec(`UPDATE ${t} SET country = NULL WHERE id % 10 = 0`);
  if (variant === 'null-email') await pg.exec(`UPDATE ${t} SET email = NULL WHERE id % 10 = 0`);
  await pg.exec(`GRANT SELECT ON ${t} TO pf_reader`);
  const admin = variant === 'over-privileged';
  // env: refs name variables in the tenant's namespace: TENANT_<tenant>__<name>.
  const envName = `${envNamespace(world.tenantId)}E2E_PG_PASSWORD_${world.connectorId.replace(/\W/g, '_').toUpperCase()}`;
  process.env[envName] = admin ? adminPassword : readerPassword;
  world.secrets.push(admin ? adminPassword : readerPassword);
  const port = variant === 'closed-port' ? await freePort() : variant === 'drops-after-handshake' ? await flakyLink(world, pg.port) : pg.port;
  const spec: ConnectorSpec = {
    name: `crm-customers-${world.connectorId}`,
    sourceType: 'postgres',
    configJson: JSON.stringify({ type: 'postgres', host: '127.0.0.1', port, database: 'postgres', user: admin ? 'pf_admin' : 'pf_reader', secretRef: `env:${envName}`, schema: 'public' }),
    contractYaml: contractYaml(t),
    environment: 'staging',
    owner: 'team-crm',
    labels: { domain: 'crm' },
  };
  world.spec = spec;
  world.registration = registration(world, spec);
  await startServices(world);
  await world.bus.producer.publish(world.registration);
}

/** The projector's own fold over every event of the connector the world saw on the bus. */
function foldConnector(world: World): ConnectorState | undefined {
  let c: ConnectorState | undefined;
  for (const e of world.events.filter((x) => x.connectorId === world.connectorId)) c = evolveConnector(c, e);
  return c;
}

async function initiateHandshake(world: World): Promise<void> {
  await startServices(world);
  await world.bus.producer.publish(
    newEvent('connector.handshake.requested', { spec: world.spec!, operationId: null, reason: 'preflight before first sync' }, {
      producer: 'cli@0.1.0',
      tenantId: world.tenantId,
      connectorId: world.connectorId,
      correlationId: world.correlationId,
      actor: 'user:platform-admin',
    }),
  );
}

const steps = new Steps<World>()
  .define('data source is registered', (w) => registerSource(w))
  .define('data source is registered with an over-privileged credential', (w) => registerSource(w, 'over-privileged'))
  .define('data source is registered on a closed port', (w) => registerSource(w, 'closed-port'))
  .define('data source is registered behind a link that drops after the handshake', (w) => registerSource(w, 'drops-after-handshake'))
  .define('data source is registered with null values in a non-PII required column', (w) => registerSource(w, 'null-country'))
  .define('data source is registered with null values in a PII column', (w) => registerSource(w, 'null-email'))
  .define('connector is deployed', async (w) => {
    // The connector module for the source type is installed and its manifest is complete…
    const module = getConnector(w.spec!.sourceType);
    expect(module.manifest.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(() => module.parseConfig(JSON.parse(w.spec!.configJson))).not.toThrow();
    // …and the registration is on the bus, with no preflight started yet.
    await eventually('registration on the bus', () => w.events.some((e) => e.eventId === w.registration!.eventId));
    expect(eventsOf(w, 'connector.handshake')).toEqual([]);
  })
  .define('Platform Admin initiates handshake', (w) => initiateHandshake(w))
  .define('connector preflight detects schema mismatch', async (w) => {
    // The source drifted after the contract was agreed: a contract column was renamed.
    const { pg } = await sharedPostgres();
    await pg.exec(`ALTER TABLE ${w.table} RENAME COLUMN country TO country_code`);
    await initiateHandshake(w);
    const checked = await waitForEvent(w, 'connector.schema.checked');
    expect(checked.status).toBe('FAIL');
    expect(checked.diff).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'MISSING_FIELD', field: 'country', severity: 'ERROR' })]));
  })
  .define('the failing preflight is repeated', async (w) => {
    // A new attempt on the unchanged, still drifted source.
    w.correlationId = randomUUID();
    await initiateHandshake(w);
    await waitForEvent(w, 'connector.incident.opened');
  })
  .define(/^one incident is open for the connector with occurrence count (\d+)$/, async (w, n) => {
    const count = Number(n);
    const c = await eventually('incident folded', () => {
      const s = foldConnector(w);
      return s?.openIncidents[0]?.occurrences === count ? s : undefined;
    });
    expect(c.openIncidents).toEqual([expect.objectContaining({ kind: 'SCHEMA_MISMATCH', occurrences: count, lastAttemptId: w.correlationId })]);
    const ids = w.events.filter((e) => e.eventType === 'connector.incident.opened').map((e) => (e as { incidentId: string }).incidentId);
    expect(new Set(ids).size).toBe(1);
  })
  .define('the source is fixed and preflighted again', async (w) => {
    const { pg } = await sharedPostgres();
    await pg.exec(`ALTER TABLE ${w.table} RENAME COLUMN country_code TO country`);
    w.correlationId = randomUUID();
    await initiateHandshake(w);
  })
  .define('the incident is resolved', async (w) => {
    const c = await eventually('incident resolved', () => {
      const s = foldConnector(w);
      return s && s.openIncidents.length === 0 && (s.resolvedIncidents ?? []).length > 0 ? s : undefined;
    });
    expect(c.resolvedIncidents).toEqual([expect.objectContaining({ occurrences: 2, status: 'resolved', resolvedAt: expect.any(String), resolution: expect.objectContaining({ reason: 'PASSED', attemptId: w.correlationId }) })]);
    // Resolved once, by the attempt whose check passed.
    const resolved = eventsOf(w, 'connector.incident.resolved');
    expect(resolved).toEqual([expect.objectContaining({ incidentId: c.resolvedIncidents![0]!.incidentId, reason: 'PASSED', correlationId: w.correlationId, delivery: 'delivered:201' })]);
  })
  .define('the incident webhook received open, update and resolve for it', async (w) => {
    const incidentId = eventsOf(w, 'connector.incident.resolved')[0]!.incidentId;
    const received = await eventually('webhook received the resolve', () => {
      const mine = w.incidentsReceived.filter((t) => t['incidentId'] === incidentId);
      return mine.some((t) => t['action'] === 'resolve') ? mine : undefined;
    });
    expect(received.map((t) => t['action'])).toEqual(['open', 'update', 'resolve']);
    // One Idempotency-Key per incident and attempt: a retry is dropped, each step arrives.
    expect(received.map((t) => t['idempotencyKeyHeader'])).toEqual(received.map((t) => `${incidentId}/${String(t['attemptId'])}`));
    expect(new Set(received.map((t) => t['idempotencyKeyHeader'])).size).toBe(3);
  })
  .define('schema validation passes', async (w) => {
    const checked = await waitForEvent(w, 'connector.schema.checked');
    expect(checked.error).toBeNull();
    expect(checked.status).toBe('PASS');
    expect(checked.checkpoint?.success).toBe(true);
    expect(checked.checkpoint?.engine).toBe('pushdown-sql');
    expect(checked.checkpoint!.evaluatedExpectations).toBeGreaterThan(3);
  })
  .define('connector status is READY', async (w) => {
    const v = await waitForEvent(w, 'connector.validated');
    expect(v.reason).toBeNull();
    expect(v.status).toBe('READY');
    expect(v.receiptYaml).toMatch(/^status: READY$/m);
    expect(v.receiptYaml).toMatch(/^validated_by: policy:auto-approve$/m);
    for (const s of w.secrets) expect(JSON.stringify(w.events)).not.toContain(s);
  })
  .define('connector status is FAILED', async (w) => {
    const v = await waitForEvent(w, 'connector.validated');
    expect(v.status).toBe('FAILED');
    expect(v.receiptYaml).toMatch(/^status: FAILED$/m);
  })
  .define('connector status is FAILED with reason {string}', async (w, reason) => {
    const v = await waitForEvent(w, 'connector.validated', w.preflightTimeoutMs + 30_000);
    expect(v.status).toBe('FAILED');
    expect(v.reason).toBe(reason);
  })
  .define('incident ticket is created', async (w) => {
    const incident = await waitForEvent(w, 'connector.incident.opened');
    expect(incident.kind).toBe('SCHEMA_MISMATCH');
    expect(incident.incidentId).toMatch(/^INC-/);
    expect(incident.delivery).toBe('delivered:201');
    await eventually('webhook received the ticket', () => w.incidentsReceived.find((t) => t['incidentId'] === incident.incidentId));
  })
  .define('incident ticket is created with severity {string}', async (w, severity) => {
    const incident = await waitForEvent(w, 'connector.incident.opened');
    expect(incident.kind).toBe('QUALITY');
    expect(incident.severity).toBe(severity);
    const checked = eventsOf(w, 'connector.schema.checked')[0]!;
    expect(checked.severity).toBe(severity);
    // PII values never leave the source in evidence.
    const failed = checked.checkpoint!.results.filter((r) => !r.success);
    expect(failed.length).toBeGreaterThan(0);
    expect(JSON.stringify(checked)).not.toMatch(/user\d+@example\.com/);
  })
  .define('the credential audit reports {string}', async (w, code) => {
    const audit = await waitForEvent(w, 'connector.credentials.audited');
    expect(audit.status).toBe('FAIL');
    expect(audit.findings.map((f) => f.code)).toContain(code);
  })
  .define('an error is logged naming the connector and {string} but not the secret', async (w, code) => {
    const line = await eventually('error log line', () =>
      w.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['level'] === 'error' && l['finding'] === code && l['connectorId'] === w.connectorId),
    );
    expect(String(line['msg'])).toContain(w.spec!.name);
    expect(line['correlationId']).toBe(w.correlationId);
    for (const s of w.secrets) expect(w.logLines.join('\n')).not.toContain(s);
  })
  .define('the handshake fails with {string}', async (w, code) => {
    const h = await waitForEvent(w, 'connector.handshake');
    expect(h.status).toBe('FAILED');
    expect(h.error?.code).toBe(code);
  })
  .define('an alert is raised', async (w) => {
    const alert = await waitForEvent(w, 'connector.alert.raised');
    expect(alert.kind).toBe('CONNECTIVITY');
    expect(alert.severity).toBe('CRITICAL');
  })
  .define('the handshake completes', async (w) => {
    const h = await waitForEvent(w, 'connector.handshake');
    expect(h.error).toBeNull();
    expect(h.status).toBe('COMPLETED');
  })
  .define('an alert is raised for the {string}', async (w, stage) => {
    const alert = await eventually(`alert for the ${stage}`, () => eventsOf(w, 'connector.alert.raised').find((a) => a.details['stage'] === stage), { timeoutMs: 60_000 });
    expect(alert.kind).toBe('CONNECTIVITY');
    expect(alert.severity).toBe('CRITICAL');
    expect(alert.summary).toContain(`became unreachable during the ${stage}`);
    for (const s of w.secrets) expect(JSON.stringify(alert)).not.toContain(s);
  })
  .define('the credential auditor is down', async (w) => {
    w.down.add('credential-auditor');
    w.preflightTimeoutMs = 4_000;
  })
  .define('the same registration is delivered twice', async (w) => {
    // Upstream re-registers with autoPreflight, and its retry delivers that very event (same
    // eventId) twice.
    const again = { ...w.registration!, eventId: randomUUID(), autoPreflight: true };
    await w.bus.producer.publish(again);
    await w.bus.producer.publish(again);
  })
  .define('every service log line of the attempt carries its connector, attempt and one trace id', async (w) => {
    const lines = w.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['correlationId'] === w.correlationId);
    const services = new Set(lines.map((l) => l['service']));
    expect(services).toEqual(new Set(['handshake', 'schema-validator', 'credential-auditor', 'readiness']));
    expect(lines.every((l) => l['connectorId'] === w.connectorId)).toBe(true);
    const traces = new Set(lines.map((l) => l['traceId']));
    expect(traces.size).toBe(1);
    expect([...traces][0]).toMatch(/^[0-9a-f]{32}$/);
    // The events carry the same trace in their W3C traceparent.
    const ids = eventsOf(w, 'connector.validated').map((e) => e.traceparent?.split('-')[1]);
    expect(ids).toEqual([...traces]);
  })
  .define('the handshake carries the contract facts the upstream registration left out', async (w) => {
    // The upstream producer does not know the field: its registrations read back without facts…
    const registered = w.events.filter((e) => e.eventType === 'connector.registered' && e.connectorId === w.connectorId);
    expect(registered.length).toBeGreaterThan(0);
    expect(registered.every((e) => e.eventType === 'connector.registered' && e.contractFacts === null)).toBe(true);
    // …so the handshake parsed the contract once and every later stage reads the facts it carries.
    const h = await waitForEvent(w, 'connector.handshake');
    expect(h.trigger).toBe('REGISTERED');
    expect(h.contractFacts).toEqual(contractFactsOf(w.spec!));
    expect(h.contractFacts).toMatchObject({ datasets: [{ name: w.table, namespace: 'public' }], piiFields: [`${w.table}.email`] });
    expect((await waitForEvent(w, 'connector.validated')).receipt.contractVersion).toBe(h.contractFacts!.version);
    for (const s of w.secrets) expect(JSON.stringify(h.contractFacts)).not.toContain(s);
  })
  .define('exactly one outcome is published for the attempt', async (w) => {
    await waitForEvent(w, 'connector.validated');
    // Give a duplicate every chance to show up.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(eventsOf(w, 'connector.validated')).toHaveLength(1);
    expect(eventsOf(w, 'connector.handshake')).toHaveLength(1);
  });

afterAll(stopSharedPostgres);

runFeature(new URL('../features/preflight.feature', import.meta.url), {
  steps,
  world: newWorld,
  dispose: disposeWorld,
  timeoutMs: 150_000,
});
