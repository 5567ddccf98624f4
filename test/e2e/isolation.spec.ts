import { afterAll, expect } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { newEvent, type ConnectorSpec } from '@preflight/events';
import { eventually } from '@preflight/testkit';
import { runFeature, Steps } from '../support/gherkin.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { contractYaml, sharedPostgres, stopSharedPostgres } from './world.js';

/**
 * The tenant "acme" tries, with the lowest role, every way the platform could resolve or reach
 * something outside acme's scope on its behalf. The listener plays acme's own server: it speaks
 * just enough HTTP and PostgreSQL (it asks for a cleartext password) to be sent a credential,
 * and records every byte; a scenario fails if a marker value ever shows up there.
 */
interface Shared {
  p: TestPlatform;
  engineer: string;
  admin: string;
  markers: string[];
  own: string;
  globexFile: string;
}

interface World {
  shared: Shared;
  listener: { port: number; bytes: () => string; close(): Promise<void> };
  name: string;
  spec?: { sourceType: string; config: Record<string, unknown>; contract: string };
  response?: { status: number; body: { issues?: Array<{ field: string; message: string }> } };
  connectorId?: string;
}

let sharedPromise: Promise<Shared> | undefined;

function shared(): Promise<Shared> {
  sharedPromise ??= (async () => {
    const p = await startTestPlatform();
    const tag = randomBytes(6).toString('hex');
    const outside = join(dirname(p.secretsRoot), 'outside');
    mkdirSync(outside, { recursive: true });
    const markerFile = `marker-outside-${tag}`;
    writeFileSync(join(outside, 'marker'), markerFile);
    const own = `acme-own-${tag}`;
    writeFileSync(join(p.secretsRoot, 'acme', 'token'), own);
    symlinkSync(join(outside, 'marker'), join(p.secretsRoot, 'acme', 'escape'));
    mkdirSync(join(p.secretsRoot, 'globex'), { recursive: true });
    const globexFile = join(p.secretsRoot, 'globex', 'token');
    writeFileSync(globexFile, `marker-globex-file-${tag}`);
    mkdirSync(join(p.filesRoot, 'globex', 'exports'), { recursive: true });
    writeFileSync(join(p.filesRoot, 'globex', 'exports', 'customers.csv'), 'id,email\n1,a@globex.example\n');
    process.env['PREFLIGHT_PLATFORM_MARKER'] = `marker-env-${tag}`;
    process.env['TENANT_globex__TOKEN'] = `marker-globex-env-${tag}`;
    const markers = [markerFile, `marker-globex-file-${tag}`, `marker-env-${tag}`, `marker-globex-env-${tag}`, readFileSync('/etc/hostname', 'utf8').trim()];
    return { p, engineer: await p.token('tenant_data_engineer', 'acme', 'erin'), admin: await p.token('platform_admin', 'acme'), markers, own, globexFile };
  })();
  return sharedPromise;
}

/** A TCP listener that answers an HTTP request with 200 `{}` and a PostgreSQL start-up with a cleartext-password request. */
async function attacker(): Promise<World['listener']> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      if (/^(GET|POST|HEAD) /.test(d.toString('latin1', 0, 5))) sock.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
      else if (d.length === 8 && d.readUInt32BE(4) === 80877103) sock.write('N'); // SSLRequest: no TLS
      else if (d.length >= 8 && d.readUInt32BE(4) === 196608) sock.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // startup → AuthenticationCleartextPassword
      else sock.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => Buffer.concat(chunks).toString('latin1'),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const CONTRACT = `apiVersion: v3.0.2
kind: DataContract
id: isolation-probe
version: 1.0.0
status: active
name: probe
schema:
  - name: customers
    logicalType: object
    properties:
      - name: id
        logicalType: integer
`;

async function register(w: World, sourceType: string, config: Record<string, unknown>, contract = CONTRACT): Promise<void> {
  const { p, engineer } = w.shared;
  w.spec = { sourceType, config, contract };
  const res = await fetch(`${p.url}/api/connectors`, {
    method: 'POST',
    headers: { authorization: `Bearer ${engineer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: w.name, sourceType, config, contract, environment: 'development', autoPreflight: true }),
  });
  w.response = { status: res.status, body: (await res.json()) as { issues?: Array<{ field: string; message: string }> } };
  w.connectorId = `acme.${w.name}`;
}

async function connector(w: World): Promise<{ status: string; lastReceipt?: { status: string; reason: string | null } }> {
  const res = await fetch(`${w.shared.p.url}/api/connectors/${encodeURIComponent(w.connectorId!)}`, { headers: { authorization: `Bearer ${w.shared.admin}` } });
  return (await res.json()) as { status: string; lastReceipt?: { status: string; reason: string | null } };
}

const rest = (w: World, secretRef: string): Promise<void> => register(w, 'rest', { baseUrl: `http://127.0.0.1:${w.listener.port}`, auth: { kind: 'bearer', secretRef } });

const steps = new Steps<World>()
  .define('tenant {string} has a secret "token" in its secrets root', async (w, tenant) => {
    expect(tenant).toBe('acme');
    expect(readFileSync(join(w.shared.p.secretsRoot, 'acme', 'token'), 'utf8')).toBe(w.shared.own);
  })
  .define('an attacker listens on 127.0.0.1', async (w) => {
    w.listener = await attacker();
  })
  .define('tenant "acme" registers a REST connector to the listener with secretRef {string}', (w, ref) => rest(w, ref))
  .define("tenant \"acme\" registers a REST connector to the listener with globex's secret file as secretRef", (w) => rest(w, `file:${w.shared.globexFile}`))
  .define('tenant "acme" registers a PostgreSQL connector to the listener with secretRef {string}', (w, secretRef) =>
    register(w, 'postgres', { host: '127.0.0.1', port: w.listener.port, database: 'erp', user: 'reader', secretRef, tls: { mode: 'disable' } }),
  )
  .define("tenant \"acme\" registers a REST connector to the platform's {string}", (w, what) => {
    const endpoint = w.shared.p.scopes.policy.platformEndpoints.find((e) => e.what === what);
    expect(endpoint, `platform endpoint ${what}`).toBeDefined();
    return register(w, 'rest', { baseUrl: `http://${endpoint!.host}:${endpoint!.port}`, auth: { kind: 'bearer', secretRef: 'file:token' } });
  })
  .define('tenant "acme" registers a files connector on {string}', (w, path) => register(w, 'files', { path }))
  .define('a platform admin registers for tenant {string} a REST connector to the listener with secretRef {string}', async (w, tenant, secretRef) => {
    const res = await fetch(`${w.shared.p.url}/api/connectors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.shared.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: w.name, tenant, sourceType: 'rest', config: { baseUrl: `http://127.0.0.1:${w.listener.port}`, auth: { kind: 'bearer', secretRef } }, contract: CONTRACT, autoPreflight: true }),
    });
    w.response = { status: res.status, body: (await res.json()) as { issues?: Array<{ field: string; message: string }> } };
    expect(w.response.body.issues?.[0]?.message).toMatch(new RegExp(`outside tenant ${tenant}'s namespace`));
  })
  .define('tenant "acme" registers a PostgreSQL connector to its own database with secretRef {string}', async (w, secretRef) => {
    const { pg, readerPassword } = await sharedPostgres();
    const table = `acme_customers_${randomBytes(4).toString('hex')}`;
    await pg.exec(`CREATE TABLE ${table} (id integer PRIMARY KEY, email text, country text, created_at timestamptz DEFAULT now())`);
    await pg.exec(`INSERT INTO ${table} SELECT g, 'user' || g || '@example.com', (ARRAY['DE','FR','NL','US'])[1 + g % 4], now() FROM generate_series(1, 50) g`);
    await pg.exec(`GRANT SELECT ON ${table} TO pf_reader`);
    writeFileSync(join(w.shared.p.secretsRoot, 'acme', secretRef.replace(/^file:/, '')), readerPassword);
    await register(w, 'postgres', { host: '127.0.0.1', port: pg.port, database: 'postgres', user: 'pf_reader', secretRef, schema: 'public' }, contractYaml(table));
  })
  .define('the registration is accepted', async (w) => {
    expect(w.response, JSON.stringify(w.response?.body)).toMatchObject({ status: 201 });
  })
  .define('the registration is refused naming {string}', async (w, field) => {
    expect(w.response!.status).toBe(400);
    const issue = w.response!.body.issues?.find((i) => i.field === field);
    expect(issue, JSON.stringify(w.response!.body)).toBeDefined();
    // The refusal says why, and never what a resolved secret would have been.
    for (const m of [...w.shared.markers, w.shared.own]) expect(JSON.stringify(w.response!.body)).not.toContain(m);
  })
  .define('the same spec is published straight to connector.registered', async (w) => {
    const spec: ConnectorSpec = {
      name: w.name,
      sourceType: w.spec!.sourceType,
      configJson: JSON.stringify({ ...w.spec!.config, type: w.spec!.sourceType }),
      contractYaml: w.spec!.contract,
      environment: 'development',
      owner: 'erin',
      labels: {},
    };
    await w.shared.p.bus.producer.publish(
      newEvent('connector.registered', { spec, autoPreflight: true }, { producer: 'upstream@1.0.0', tenantId: 'acme', connectorId: w.connectorId!, correlationId: randomUUID(), actor: 'system:upstream' }),
    );
  })
  .define('the preflight ends FAILED with reason {string}', async (w, reason) => {
    const c = await eventually(`outcome of ${w.connectorId}`, async () => (await connector(w)).lastReceipt ?? undefined, { timeoutMs: 60_000 });
    expect(c.status).toBe('FAILED');
    expect(c.reason).toBe(reason);
  })
  .define('the preflight ends READY', async (w) => {
    const c = await eventually(`outcome of ${w.connectorId}`, async () => (await connector(w)).lastReceipt ?? undefined, { timeoutMs: 60_000 });
    expect(c).toMatchObject({ status: 'READY', reason: null });
  })
  .define("the listener receives the tenant's own secret", async (w) => {
    await eventually('the own token at the listener', () => w.listener.bytes().includes(`Bearer ${w.shared.own}`), { timeoutMs: 30_000 });
  })
  .define('the listener received no secret', async (w) => {
    // Give a late connection every chance to arrive.
    await new Promise((r) => setTimeout(r, 500));
    const seen = w.listener.bytes();
    for (const m of w.shared.markers) expect(seen).not.toContain(m);
    expect(seen).toBe('');
  });

afterAll(async () => {
  if (sharedPromise) await (await sharedPromise).p.stop();
  await stopSharedPostgres();
});

runFeature(new URL('../features/tenant-isolation.feature', import.meta.url), {
  steps,
  world: async () => ({ shared: await shared(), name: `probe-${randomBytes(4).toString('hex')}` }) as World,
  dispose: async (w) => {
    await w.listener?.close();
  },
  timeoutMs: 120_000,
});
