/**
 * The evidence a receipt carries, through the real schema check on PostgreSQL, MariaDB and files:
 * per-rule severity; failed-row samples (at most the requested rows per failed expectation, the
 * contract's columns only, PII-classified and secret-named columns redacted); SLA freshness and
 * retention measured on the source.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@preflight/core';
import { devScopes, getConnector } from '@preflight/connectors';
import type { ExpectationValidationResult } from '@preflight/contracts';
import { startMariadb, startPostgres, type DbServerHandle } from '@preflight/local-infra';
import { createPostgresReader, type PostgresReaderConfig } from '@preflight/testkit';
import type { ConnectorSpec } from '@preflight/events';
import { eventually } from '@preflight/testkit';
import { performSchemaCheck } from './handler.js';

/** Sessions PostgreSQL has counted on the reader's database (asked from another database, so this one is not counted). */
async function sessionsOf(pg: DbServerHandle): Promise<number> {
  const { default: pgc } = await import('pg');
  const c = new pgc.Client({ host: '127.0.0.1', port: pg.port, user: pg.adminUser, password: pg.adminPassword, database: 'template1' });
  await c.connect();
  try {
    return Number((await c.query<{ sessions: string }>(`SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'`)).rows[0]?.sessions ?? 0);
  } finally {
    await c.end();
  }
}
import { toCheckpoint } from './decide.js';

const contract = (samples: number): string => `
apiVersion: v3.1.0
kind: DataContract
id: failed-rows
version: 1.0.0
status: active
customProperties:
  - property: failedRowSamples
    value: ${samples}
schema:
  - name: customers
    properties:
      - name: id
        logicalType: integer
        quality:
          - metric: duplicateValues
            mustBe: 0
      - name: email
        logicalType: string
        classification: pii
        quality:
          - metric: nullValues
            mustBe: 0
      - name: api_token
        logicalType: string
      - name: country
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: { validValues: [DE, FR] }
            mustBe: 0
            severity: info
`;

// id 3 twice; countries XX, YY, ZZ invalid; one null email. api_token holds what must never leak.
const ROWS: Array<[number, string | null, string, string]> = [
  [1, 'a@x.io', 'tok-aaaa', 'DE'],
  [2, 'b@x.io', 'tok-bbbb', 'XX'],
  [3, 'c@x.io', 'tok-cccc', 'YY'],
  [3, null, 'tok-dddd', 'ZZ'],
  [5, 'e@x.io', 'tok-eeee', 'FR'],
];
const SECRETS = ['tok-', '@x.io'];
const sqlRows = ROWS.map(([id, email, token, country]) => `(${id}, ${email === null ? 'NULL' : `'${email}'`}, '${token}', '${country}', 'internal')`).join(', ');

function byClause(results: ExpectationValidationResult[], clause: string, column: string): ExpectationValidationResult {
  const r = results.find((x) => x.expectation_config.meta.clause === clause && x.expectation_config.meta.column === column);
  if (!r) throw new Error(`no ${clause} expectation on ${column}`);
  return r;
}

/** The same assertions for every source: only the engine that finds the rows differs. */
async function expectSamples(spec: ConnectorSpec, scopes: ReturnType<typeof devScopes>): Promise<void> {
  const outcome = await performSchemaCheck('acme', spec, 'failed-rows', { connectors: getConnector, scopes, maxFailedRowSamples: 50 }, silentLogger());
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  const results = outcome.checkpoint!.results;

  const invalid = byClause(results, 'invalidValues', 'country');
  expect(invalid).toMatchObject({ success: false, result: { unexpected_count: 3 }, expectation_config: { meta: { severity: 'warning', ruleSeverity: 'info' } } });
  // Asked for 2: two of the three offending rows, every contract column, secrets and PII redacted.
  expect(invalid.result.unexpected_rows).toHaveLength(2);
  for (const row of invalid.result.unexpected_rows!) {
    expect(Object.keys(row).sort()).toEqual(['api_token', 'country', 'email', 'id']);
    expect(['XX', 'YY', 'ZZ']).toContain(row['country']);
    expect(row['api_token']).toBe('[REDACTED]');
    expect(row['email'] === '[REDACTED]' || row['email'] === null).toBe(true);
  }

  const nulls = byClause(results, 'nullValues', 'email');
  expect(nulls).toMatchObject({ success: false, expectation_config: { meta: { severity: 'error' } }, result: { unexpected_rows: [{ id: '3', email: null, api_token: '[REDACTED]', country: 'ZZ' }] } });
  expect(nulls.expectation_config.meta.ruleSeverity).toBeUndefined();

  const dups = byClause(results, 'duplicateValues', 'id');
  expect(dups).toMatchObject({ success: false, result: { observed_value: 1, unexpected_count: 2 } });
  expect(dups.result.unexpected_rows!.map((r) => r['id'])).toEqual(['3', '3']);

  // A passing expectation carries no rows; nothing secret reaches the event.
  expect(results.filter((r) => r.success).every((r) => r.result.unexpected_rows === undefined)).toBe(true);
  const event = JSON.stringify(toCheckpoint(outcome.checkpoint!));
  for (const s of SECRETS) expect(event).not.toContain(s);
  expect(toCheckpoint(outcome.checkpoint!).results.find((r) => r.expectationType === 'expect_column_values_to_be_in_set')).toMatchObject({ severity: 'warning', ruleSeverity: 'info' });

  // Without the contract's request there are no samples; the platform's cap bounds a request.
  const none = await performSchemaCheck('acme', { ...spec, contractYaml: contract(0) }, 'no-rows', { connectors: getConnector, scopes }, silentLogger());
  expect(none.ok && none.checkpoint!.results.every((r) => r.result.unexpected_rows === undefined)).toBe(true);
  const capped = await performSchemaCheck('acme', spec, 'capped', { connectors: getConnector, scopes, maxFailedRowSamples: 1 }, silentLogger());
  expect(capped.ok && byClause(capped.checkpoint!.results, 'invalidValues', 'country').result.unexpected_rows).toHaveLength(1);
}

describe('failed-row samples and per-rule severity', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const scopes = devScopes({ stores: { test: async () => ({ value: password }) } });
  let pg: DbServerHandle;
  let pgReader: PostgresReaderConfig;
  let maria: DbServerHandle;
  const files = mkdtempSync(join(tmpdir(), 'failed-rows-'));

  beforeAll(async () => {
    [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
    await pg.exec(`CREATE TABLE customers (id INT, email TEXT, api_token TEXT, country CHAR(2), note TEXT);
      INSERT INTO customers VALUES ${sqlRows}`);
    pgReader = await createPostgresReader(pg, password, 'GRANT SELECT ON customers TO reader');
    await maria.exec(`CREATE DATABASE erp; CREATE TABLE erp.customers (id INT, email VARCHAR(100), api_token VARCHAR(100), country CHAR(2), note VARCHAR(20));
      INSERT INTO erp.customers VALUES ${sqlRows};
      CREATE USER 'reader'@'%' IDENTIFIED BY '${password}'; GRANT SELECT ON erp.* TO 'reader'@'%'`);
    mkdirSync(join(files, 'acme', 'crm'), { recursive: true });
    writeFileSync(join(files, 'acme', 'crm', 'customers.csv'), ['id,email,api_token,country,note', ...ROWS.map(([id, email, token, country]) => `${id},${email ?? ''},${token},${country},internal`)].join('\n'));
  }, 180_000);
  afterAll(async () => {
    await Promise.all([pg?.stop(), maria?.stop()]);
    rmSync(files, { recursive: true, force: true });
  });

  const spec = (sourceType: string, config: Record<string, unknown>): ConnectorSpec => ({ name: 'crm', sourceType, configJson: JSON.stringify(config), contractYaml: contract(2), environment: 'dev', owner: null, labels: {} });

  it('PostgreSQL (pushdown)', async () => {
    await expectSamples(spec('postgres', pgReader), scopes);
  });

  it('PostgreSQL: a composite key and a foreign key sample the offending rows too', async () => {
    await pg.exec(`CREATE TABLE lines (order_id INT, line_no INT, customer_id INT);
      INSERT INTO lines VALUES (1, 1, 1), (1, 1, 2), (1, 2, 99), (2, 1, NULL);
      GRANT SELECT ON lines TO reader`);
    const lines = `${contract(5)}  - name: lines
    properties:
      - name: order_id
        logicalType: integer
        primaryKey: true
        primaryKeyPosition: 1
      - name: line_no
        logicalType: integer
        primaryKey: true
        primaryKeyPosition: 2
      - name: customer_id
        logicalType: integer
        relationships:
          - type: foreignKey
            to: customers.id
`;
    const outcome = await performSchemaCheck('acme', { ...spec('postgres', pgReader), contractYaml: lines }, 'keys', { connectors: getConnector, scopes }, silentLogger());
    if (!outcome.ok) throw new Error(outcome.error.message);
    const of = (type: string): ExpectationValidationResult => outcome.checkpoint!.results.find((r) => r.expectation_config.meta.dataset === 'lines' && r.expectation_config.expectation_type === type)!;
    const pairs = of('expect_compound_columns_to_be_unique').result.unexpected_rows;
    expect(pairs).toHaveLength(2);
    expect(pairs).toEqual(expect.arrayContaining([{ order_id: '1', line_no: '1', customer_id: '1' }, { order_id: '1', line_no: '1', customer_id: '2' }]));
    expect(of('expect_foreign_key_values_to_exist').result.unexpected_rows).toEqual([{ order_id: '1', line_no: '2', customer_id: '99' }]);
  });

  it('PostgreSQL: one check runs on one session and asks each distinct query once, with the same results', async () => {
    const asked: string[] = [];
    const pgModule = getConnector('postgres');
    const counting = (type: string): ReturnType<typeof getConnector> =>
      type === 'postgres' ? { ...pgModule, pushdown: { ...pgModule.pushdown!, query: (c, ctx, sql, params) => (asked.push(sql), pgModule.pushdown!.query(c, ctx, sql, params)) } } : getConnector(type);
    // A primary key (unique) and a duplicateValues rule on the same column are the same scan.
    const keyed = contract(2).replace('      - name: id\n        logicalType: integer\n', '      - name: id\n        logicalType: integer\n        primaryKey: true\n');
    const before = await sessionsOf(pg);
    const outcome = await performSchemaCheck('acme', { ...spec('postgres', pgReader), contractYaml: keyed }, 'memo', { connectors: counting, scopes }, silentLogger());
    if (!outcome.ok) throw new Error(outcome.error.message);
    const types = outcome.checkpoint!.results.map((r) => r.expectation_config.expectation_type);
    expect(types.filter((t) => t === 'expect_column_values_to_be_unique')).toHaveLength(2);
    expect(asked.length).toBeGreaterThan(3);
    expect(new Set(asked).size).toBe(asked.length);
    const unique = outcome.checkpoint!.results.filter((r) => r.expectation_config.expectation_type === 'expect_column_values_to_be_unique');
    expect(unique[0]!.result).toEqual(unique[1]!.result);
    // pg_stat_database counts a session when it ends.
    await eventually('the check\'s session counted', async () => (await sessionsOf(pg)) > before);
    expect(await sessionsOf(pg)).toBe(before + 1);
  });

  it('MariaDB (pushdown)', async () => {
    await expectSamples(spec('mysql', { host: '127.0.0.1', port: maria.port, database: 'erp', user: 'reader', secretRef: 'test:reader' }), scopes);
  });

  it('SLA freshness and retention on MariaDB and a JSON lines file (PostgreSQL: the conformance test)', async () => {
    await maria.exec(`CREATE TABLE erp.events (id INT, at DATETIME);
      INSERT INTO erp.events VALUES (1, UTC_TIMESTAMP() - INTERVAL 2 HOUR), (2, UTC_TIMESTAMP() - INTERVAL 10 DAY)`);
    const now = Date.now();
    writeFileSync(join(files, 'acme', 'crm', 'events.jsonl'), [now - 2 * 3600_000, now - 10 * 86_400_000].map((t, i) => JSON.stringify({ id: i + 1, at: new Date(t).toISOString().replace('T', ' ').slice(0, 19) })).join('\n'));
    const slaContract = `apiVersion: v3.1.0
kind: DataContract
id: sla
version: 1.0.0
status: active
schema:
  - name: events
    properties:
      - name: id
        logicalType: integer
      - name: at
        logicalType: timestamp
slaProperties:
  - property: freshness
    value: 3
    unit: h
    element: events.at
  - property: freshness
    value: 1
    unit: h
    element: events.at
  - property: retention
    value: P7D
    element: events.at
`;
    const mariaSpec = { ...spec('mysql', { host: '127.0.0.1', port: maria.port, database: 'erp', user: 'reader', secretRef: 'test:reader' }), contractYaml: slaContract };
    const fileSpec = { ...spec('files', { path: 'crm' }), contractYaml: slaContract };
    for (const [s, sc] of [[mariaSpec, scopes], [fileSpec, devScopes({ filesRoot: files })]] as const) {
      const outcome = await performSchemaCheck('acme', s, 'sla', { connectors: getConnector, scopes: sc }, silentLogger());
      if (!outcome.ok) throw new Error(outcome.error.message);
      const sla = outcome.checkpoint!.results.filter((r) => r.expectation_config.meta.source.startsWith('slaProperties'));
      // Two hours old: fresh within 3 h, stale for 1 h; ten days old: kept longer than 7 days.
      expect(sla.map((r) => [r.expectation_config.meta.clause, r.expectation_config.kwargs['max_age_seconds'], r.success])).toEqual([
        ['freshness', 10_800, true],
        ['freshness', 3_600, false],
        ['retention', 604_800, false],
      ]);
      expect(Math.abs(Number(sla[0]!.result.observed_value) - 7_200)).toBeLessThan(120);
      expect(Math.abs(Number(sla[2]!.result.observed_value) - 864_000)).toBeLessThan(120);
    }
  });

  it('a CSV file (sample)', async () => {
    await expectSamples(spec('files', { path: 'crm' }), devScopes({ filesRoot: files }));
  });
});
