import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { freePort, startPostgres, type DbServerHandle } from '@preflight/local-infra';
import { conformanceSuite } from '../testing/conformance.js';
import { startSilentPort } from '../testing/erp-api.js';
import { devScopes } from '../scope/factory.js';
import { postgresConnector } from './postgres.js';
import { OperationSessions } from '../sessions.js';

async function adminQuery(pg: DbServerHandle, sql: string): Promise<number> {
  const { default: pgc } = await import('pg');
  const c = new pgc.Client({ host: '127.0.0.1', port: pg.port, user: pg.adminUser, password: pg.adminPassword, database: 'postgres' });
  await c.connect();
  try {
    return (await c.query<{ n: number }>(sql)).rows[0]!.n;
  } finally {
    await c.end();
  }
}

const pw = (): string => `pw-${randomBytes(8).toString('hex')}`;
const secrets = new Map<string, string>();
const scope = devScopes({ stores: { test: async (name) => ({ value: secrets.get(name) ?? '' }) } }).forTenant('acme');

async function seed(pg: DbServerHandle): Promise<void> {
  secrets.set('reader', pw());
  secrets.set('boss', pw());
  secrets.set('nogrant', pw());
  await pg.exec(`CREATE ROLE reader LOGIN PASSWORD '${secrets.get('reader')}'; CREATE ROLE boss LOGIN SUPERUSER PASSWORD '${secrets.get('boss')}'; CREATE ROLE nogrant LOGIN PASSWORD '${secrets.get('nogrant')}'`);
  await pg.exec(`CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, country text, created_at timestamptz DEFAULT now(), score numeric, active boolean, tags jsonb)`);
  await pg.exec(`INSERT INTO customers (id, email, country) SELECT g, 'c' || g || '@example.com', 'DE' FROM generate_series(1, 50) g`);
  await pg.exec(`CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer)`);
  await pg.exec(`GRANT SELECT ON customers TO reader; GRANT SELECT ON orders TO reader; GRANT SELECT ON orders TO nogrant`);
  await pg.exec(`CREATE SCHEMA wide; ${Array.from({ length: 210 }, (_, i) => `CREATE TABLE wide.t${i} (id integer PRIMARY KEY, a text, b integer, c timestamptz);`).join(' ')} GRANT USAGE ON SCHEMA wide TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA wide TO reader`);
}

const cfg = (pg: { port: number }, user: string, extra: Record<string, unknown> = {}) => ({ type: 'postgres', host: '127.0.0.1', port: pg.port, database: 'postgres', user, secretRef: `test:${user}`, ...extra });

let shared: DbServerHandle;
conformanceSuite('postgres', postgresConnector, { network: true, grants: true, manyTables: true }, async () => {
  shared = await startPostgres();
  await seed(shared);
  const silent = await startSilentPort();
  secrets.set('wrong', 'not-the-password');
  return {
    scope,
    good: cfg(shared, 'reader'),
    dataset: 'customers',
    wrongPassword: { ...cfg(shared, 'reader'), secretRef: 'test:wrong' },
    closedPort: cfg({ port: await freePort() }, 'reader'),
    silent: cfg({ port: silent.port }, 'reader'),
    missingGrant: cfg(shared, 'nogrant'),
    manyTables: { config: cfg(shared, 'reader', { schema: 'wide' }), count: 200, maxMs: 10_000 },
    teardown: async () => {
      await silent.close();
      await shared.stop();
    },
  };
});

describe('postgres specifics', () => {
  let pg: DbServerHandle;
  beforeAll(async () => {
    pg = await startPostgres();
    await seed(pg);
  }, 120_000);
  afterAll(async () => pg?.stop());
  const ctx = { scope };

  it('role fixtures: least privilege, superuser, missing SELECT', async () => {
    const least = await postgresConnector.auditAccess(postgresConnector.parseConfig(cfg(pg, 'reader')), ctx, ['customers', 'orders']);
    expect(least).toMatchObject({ principal: 'reader', superuser: false, canCreateRole: false, canCreateDb: false, writable: [] });
    expect(least.readable).toEqual(expect.arrayContaining(['public.customers', 'public.orders']));
    const boss = await postgresConnector.auditAccess(postgresConnector.parseConfig(cfg(pg, 'boss')), ctx, ['customers']);
    expect(boss.superuser).toBe(true);
    expect(boss.writable).toContain('public.customers');
    const missing = await postgresConnector.auditAccess(postgresConnector.parseConfig(cfg(pg, 'nogrant')), ctx, ['customers', 'orders']);
    expect(missing.readable).toContain('public.orders');
    expect(missing.readable).not.toContain('public.customers');
  });

  it('negotiates TLS when the server offers it, and reports protocol and cipher', async () => {
    const r = await postgresConnector.handshake(postgresConnector.parseConfig(cfg(pg, 'reader', { tls: { mode: 'require' } })), ctx);
    expect(r.tls.enabled).toBe(true);
    expect(r.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    const plain = await postgresConnector.handshake(postgresConnector.parseConfig(cfg(pg, 'reader', { tls: { mode: 'disable' } })), ctx);
    expect(plain.tls.enabled).toBe(false);
  });

  it('maps catalog types to logical types and finds the primary key', async () => {
    const d = await postgresConnector.discover(postgresConnector.parseConfig(cfg(pg, 'reader')), ctx, { datasets: ['customers'] });
    const t = d.datasets[0]!;
    expect(t.primaryKey).toEqual(['id']);
    expect(Object.fromEntries(t.fields.map((f) => [f.name, [f.logicalType, f.nullable]]))).toEqual({
      id: ['integer', false], email: ['string', false], country: ['string', true], created_at: ['timestamp', true], score: ['number', true], active: ['boolean', true], tags: ['object', true],
    });
  });

  it('runs pushdown queries with parameters in the configured schema', async () => {
    const rows = await postgresConnector.pushdown!.query(postgresConnector.parseConfig(cfg(pg, 'reader')), ctx, 'SELECT COUNT(*)::int AS n FROM customers WHERE country = $1', ['DE']);
    expect(rows).toEqual([{ n: 50 }]);
  });

  it('one check shares one session: discovery and every pushdown query on it, read-only, closed with the check', async () => {
    const sessions = new OperationSessions();
    const check = { scope, sessions };
    const c = postgresConnector.parseConfig(cfg(pg, 'reader'));
    const pids = new Set<number>();
    const pid = async (): Promise<number> => (await postgresConnector.pushdown!.query(c, check, 'SELECT pg_backend_pid() AS pid', []))[0]!['pid'] as number;
    await postgresConnector.discover(c, check);
    for (let i = 0; i < 5; i++) pids.add(await pid());
    expect(pids.size).toBe(1);
    // A server error (a denied table) leaves the session usable; it was set up read-only.
    await expect(postgresConnector.pushdown!.query(c, check, 'SELECT * FROM pg_authid', [])).rejects.toMatchObject({ code: 'PERMISSION' });
    expect(await pid()).toBe([...pids][0]);
    await expect(postgresConnector.pushdown!.query(c, check, 'CREATE TEMP TABLE x (a int)', [])).rejects.toThrow(/read-only/);
    await sessions.close();
    // The backend exits once it has read the client's goodbye; give it a moment.
    let open = -1;
    for (let i = 0; i < 50 && open !== 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      open = await adminQuery(pg, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${[...pids][0]}`);
    }
    expect(open).toBe(0);
  });

  it('an operation that times out drops the shared session; the next one opens a fresh session', async () => {
    const sessions = new OperationSessions();
    const c = postgresConnector.parseConfig(cfg(pg, 'reader'));
    const first = (await postgresConnector.pushdown!.query(c, { scope, sessions }, 'SELECT pg_backend_pid() AS pid', []))[0]!['pid'];
    await expect(postgresConnector.pushdown!.query(c, { scope, sessions, timeoutMs: 300 }, 'SELECT pg_sleep(5)', [])).rejects.toMatchObject({ code: 'TIMEOUT' });
    const second = (await postgresConnector.pushdown!.query(c, { scope, sessions }, 'SELECT pg_backend_pid() AS pid', []))[0]!['pid'];
    expect(second).not.toBe(first);
    await sessions.close();
  });

  it('a missing database is a CONFIG error naming the field', async () => {
    await expect(postgresConnector.handshake(postgresConnector.parseConfig({ ...cfg(pg, 'reader'), database: 'nope' }), ctx)).rejects.toMatchObject({ code: 'CONFIG', message: expect.stringMatching(/^config\.database/) });
  });
});
