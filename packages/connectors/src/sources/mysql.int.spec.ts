import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { freePort, startMariadb, type DbServerHandle } from '@preflight/local-infra';
import { conformanceSuite } from '../testing/conformance.js';
import { startSilentPort } from '../testing/erp-api.js';
import { devScopes } from '../scope/factory.js';
import { mysqlConnector } from './mysql.js';
import { OperationSessions } from '../sessions.js';

const secrets = new Map<string, string>();
const scope = devScopes({ stores: { test: async (name) => ({ value: secrets.get(name) ?? '' }) } }).forTenant('acme');

async function seed(db: DbServerHandle): Promise<void> {
  for (const u of ['reader', 'boss', 'nogrant']) secrets.set(u, `pw-${randomBytes(8).toString('hex')}`);
  await db.exec(`CREATE DATABASE erp; CREATE DATABASE wide;
    CREATE TABLE erp.customers (id INT PRIMARY KEY, email VARCHAR(200) NOT NULL, country CHAR(2), created_at DATETIME, score DECIMAL(5,2), active TINYINT(1));
    INSERT INTO erp.customers (id, email, country) VALUES (1, 'a@x.io', 'DE'), (2, 'b@x.io', 'FR'), (3, 'c@x.io', NULL);
    CREATE TABLE erp.orders (id INT PRIMARY KEY, customer_id INT);
    CREATE USER 'reader'@'%' IDENTIFIED BY '${secrets.get('reader')}'; GRANT SELECT ON erp.* TO 'reader'@'%';
    CREATE USER 'boss'@'%' IDENTIFIED BY '${secrets.get('boss')}'; GRANT ALL PRIVILEGES ON *.* TO 'boss'@'%';
    CREATE USER 'nogrant'@'%' IDENTIFIED BY '${secrets.get('nogrant')}'; GRANT SELECT ON erp.orders TO 'nogrant'@'%'; GRANT SELECT ON wide.* TO 'reader'@'%';
    ${Array.from({ length: 205 }, (_, i) => `CREATE TABLE wide.t${i} (id INT PRIMARY KEY, a VARCHAR(20), b INT);`).join(' ')}`);
}

const cfg = (db: { port: number }, user: string, extra: Record<string, unknown> = {}) => ({ type: 'mysql', host: '127.0.0.1', port: db.port, database: 'erp', user, secretRef: `test:${user}`, ...extra });

conformanceSuite('mariadb', mysqlConnector, { network: true, grants: true, manyTables: true }, async () => {
  const db = await startMariadb();
  await seed(db);
  const silent = await startSilentPort();
  secrets.set('wrong', 'not-the-password');
  return {
    scope,
    good: cfg(db, 'reader'),
    dataset: 'customers',
    wrongPassword: { ...cfg(db, 'reader'), secretRef: 'test:wrong' },
    closedPort: cfg({ port: await freePort() }, 'reader'),
    silent: cfg({ port: silent.port }, 'reader'),
    missingGrant: cfg(db, 'nogrant'),
    manyTables: { config: cfg(db, 'reader', { database: 'wide' }), count: 200, maxMs: 10_000 },
    teardown: async () => {
      await silent.close();
      await db.stop();
    },
  };
});

describe('mariadb specifics', () => {
  let db: DbServerHandle;
  beforeAll(async () => {
    db = await startMariadb();
    await seed(db);
  }, 120_000);
  afterAll(async () => db?.stop());
  const ctx = { scope };

  it('role fixtures from SHOW GRANTS: least privilege, all privileges, missing SELECT', async () => {
    const least = await mysqlConnector.auditAccess(mysqlConnector.parseConfig(cfg(db, 'reader')), ctx, ['customers']);
    expect(least).toMatchObject({ principal: 'reader', superuser: false, canCreateRole: false, writable: [] });
    expect(least.readable).toEqual(expect.arrayContaining(['erp.customers', 'erp.orders']));
    const boss = await mysqlConnector.auditAccess(mysqlConnector.parseConfig(cfg(db, 'boss')), ctx, ['customers']);
    expect(boss).toMatchObject({ superuser: true, canCreateRole: true, canCreateDb: true });
    expect(boss.writable).toContain('erp.customers');
    const missing = await mysqlConnector.auditAccess(mysqlConnector.parseConfig(cfg(db, 'nogrant')), ctx, ['customers']);
    expect(missing.readable).toEqual(['erp.orders']);
  });

  it('maps information_schema types and keys', async () => {
    const d = await mysqlConnector.discover(mysqlConnector.parseConfig(cfg(db, 'reader')), ctx, { datasets: ['customers'] });
    const t = d.datasets[0]!;
    expect(t.primaryKey).toEqual(['id']);
    expect(Object.fromEntries(t.fields.map((f) => [f.name, [f.logicalType, f.nullable]]))).toEqual({
      id: ['integer', false], email: ['string', false], country: ['string', true], created_at: ['timestamp', true], score: ['number', true], active: ['boolean', true],
    });
  });

  it('one check shares one read-only session; a server error keeps it, a timeout drops it', async () => {
    const sessions = new OperationSessions();
    const c = mysqlConnector.parseConfig(cfg(db, 'reader'));
    const id = async (extra: { timeoutMs?: number } = {}): Promise<number> => Number((await mysqlConnector.pushdown!.query(c, { scope, sessions, ...extra }, 'SELECT CONNECTION_ID() AS id', []))[0]!['id']);
    await mysqlConnector.discover(c, { scope, sessions });
    const first = await id();
    expect(await id()).toBe(first);
    await expect(mysqlConnector.pushdown!.query(c, { scope, sessions }, 'SELECT * FROM mysql.user', [])).rejects.toMatchObject({ code: 'PERMISSION' });
    expect(await id()).toBe(first);
    await expect(mysqlConnector.pushdown!.query(c, { scope, sessions }, 'CREATE TEMPORARY TABLE erp.x (a int)', [])).rejects.toThrow(/READ ONLY/i);
    await expect(mysqlConnector.pushdown!.query(c, { scope, sessions, timeoutMs: 300 }, 'SELECT SLEEP(5)', [])).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(await id()).not.toBe(first);
    await sessions.close();
  });

  it('runs pushdown queries with ? parameters', async () => {
    const rows = await mysqlConnector.pushdown!.query(mysqlConnector.parseConfig(cfg(db, 'reader')), ctx, 'SELECT COUNT(*) AS n FROM `customers` WHERE country = ?', ['DE']);
    expect(Number(rows[0]!['n'])).toBe(1);
  });
});
