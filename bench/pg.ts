// The PostgreSQL source of the single-preflight bench (issue 14): a real server from the Debian
// package, two tables owned by the admin and readable by a least-privilege role, and a contract of
// both tables whose quality rules run as pushdown queries (~20 expectations).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from '@preflight/local-infra';
import type { ConnectorSpec } from '@preflight/events';

export const PG_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: bench-shop
version: 1.0.0
status: active
name: Bench shop
customProperties:
  - property: unexpectedFields
    value: allow
schema:
  - name: customers
    physicalName: customers
    logicalType: object
    properties:
      - name: id
        logicalType: integer
        required: true
        primaryKey: true
      - name: email
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              pattern: '^[^@\\s]+@[^@\\s]+$'
            mustBe: 0
      - name: country
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              validValues: [DE, FR, NL, US]
            mustBe: 0
      - name: created_at
        logicalType: timestamp
    quality:
      - metric: rowCount
        mustBeBetween: [1, 100000]
      - metric: duplicateValues
        arguments:
          properties: [id]
        mustBe: 0
  - name: orders
    physicalName: orders
    logicalType: object
    properties:
      - name: order_id
        logicalType: integer
        required: true
        primaryKey: true
      - name: customer_id
        logicalType: integer
        required: true
      - name: amount
        logicalType: number
        required: true
      - name: currency
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              validValues: [EUR, USD]
            mustBe: 0
      - name: status
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              validValues: [paid, shipped, refunded]
            mustBe: 0
    quality:
      - metric: rowCount
        mustBeBetween: [1, 1000000]
      - metric: duplicateValues
        arguments:
          properties: [order_id]
        mustBe: 0
`;

export interface BenchPostgres {
  spec: ConnectorSpec;
  /** Sessions the source has seen on the bench database (pg_stat_database), for "sessions per preflight". */
  sessions(): Promise<number>;
  /** Statements the bench database has run (committed and rolled-back transactions; every check query is one). */
  statements(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts PostgreSQL, loads the two tables and writes the reader's password into `secretsRoot/<tenant>/`. */
export async function benchPostgres(secretsRoot: string, tenant: string): Promise<BenchPostgres> {
  const pg = await startPostgres();
  const password = randomBytes(16).toString('hex');
  await pg.exec(`CREATE ROLE bench_reader LOGIN PASSWORD '${password}'`);
  await pg.exec(`CREATE DATABASE bench`);
  mkdirSync(join(secretsRoot, tenant), { recursive: true });
  writeFileSync(join(secretsRoot, tenant, 'pg-password'), password, { mode: 0o600 });
  const { default: pgc } = await import('pg');
  const admin = async <T>(database: string, fn: (c: InstanceType<typeof pgc.Client>) => Promise<T>): Promise<T> => {
    const c = new pgc.Client({ host: '127.0.0.1', port: pg.port, user: pg.adminUser, password: pg.adminPassword, database });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  await admin('bench', async (c) => {
    await c.query(`CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, country text NOT NULL, created_at timestamptz)`);
    await c.query(`INSERT INTO customers SELECT g, 'customer' || g || '@example.com', (ARRAY['DE','FR','NL','US'])[1 + g % 4], now() - g * interval '1 hour' FROM generate_series(1, 5000) g`);
    await c.query(`CREATE TABLE orders (order_id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric(10,2) NOT NULL, currency text NOT NULL, status text NOT NULL)`);
    await c.query(`INSERT INTO orders SELECT g, 1 + g % 5000, (g % 97) + 0.5, (ARRAY['EUR','USD'])[1 + g % 2], (ARRAY['paid','shipped','refunded'])[1 + g % 3] FROM generate_series(1, 20000) g`);
    await c.query(`GRANT SELECT ON customers, orders TO bench_reader`);
    await c.query(`ANALYZE`);
  });
  const spec: ConnectorSpec = {
    name: 'bench-pg',
    sourceType: 'postgres',
    configJson: JSON.stringify({ type: 'postgres', host: '127.0.0.1', port: pg.port, database: 'bench', user: 'bench_reader', secretRef: 'file:pg-password', schema: 'public' }),
    contractYaml: PG_CONTRACT,
    environment: 'development',
    owner: null,
    labels: {},
  };
  return {
    spec,
    sessions: () => admin('postgres', async (c) => Number((await c.query<{ sessions: string }>(`SELECT sessions FROM pg_stat_database WHERE datname = 'bench'`)).rows[0]?.sessions ?? 0)),
    statements: () => admin('postgres', async (c) => Number((await c.query<{ n: string }>(`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = 'bench'`)).rows[0]?.n ?? 0)),
    stop: () => pg.stop(),
  };
}
