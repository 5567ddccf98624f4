/**
 * The credential audit on real PostgreSQL and MariaDB: a role that lacks one grant the contract
 * needs, and holds one it should not, gets PERMISSION and WRITE_PRIVILEGE findings whose GRANT /
 * REVOKE statement, run by an admin, makes the next audit pass.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@preflight/core';
import { devScopes, getConnector } from '@preflight/connectors';
import { startMariadb, startPostgres, type DbServerHandle } from '@preflight/local-infra';
import { createPostgresReader, type PostgresReaderConfig } from '@preflight/testkit';
import type { ConnectorSpec } from '@preflight/events';
import { contractFactsOf } from '@preflight/contracts';
import { gatherFacts } from './handler.js';
import { DEFAULT_POLICY, judgeCredential } from './judge.js';

// The tables live in the schema the contract's server names; the config does not say it.
const contract = (serverType: string, port: number, extra: string): string => `apiVersion: v3.1.0
kind: DataContract
id: audit
version: 1.0.0
status: active
servers:
  - server: main
    type: ${serverType}
    host: 127.0.0.1
    port: ${port}
    ${extra}
schema:
  - name: orders
    properties:
      - name: id
        logicalType: integer
  - name: Payroll
    properties:
      - name: id
        logicalType: integer
`;

const fixes = (findings: Array<{ code: string; message: string }>): string[] => findings.filter((f) => f.code === 'PERMISSION' || f.code === 'WRITE_PRIVILEGE').map((f) => f.message.split(/: (?=GRANT|REVOKE)|; fix: /)[1]!);

describe('credential audit: missing and excess grants, with the statement that fixes each', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const scopes = devScopes({ stores: { test: async () => ({ value: password }) } });
  let pg: DbServerHandle;
  let pgReader: PostgresReaderConfig;
  let maria: DbServerHandle;
  beforeAll(async () => {
    [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
    await pg.exec(`CREATE SCHEMA erp; CREATE TABLE erp.orders (id int); CREATE TABLE erp."Payroll" (id int)`);
    pgReader = await createPostgresReader(pg, password, 'GRANT USAGE ON SCHEMA erp TO reader; GRANT SELECT, INSERT, UPDATE ON erp.orders TO reader');
    await maria.exec(`CREATE DATABASE shop; CREATE TABLE shop.orders (id INT); CREATE TABLE shop.Payroll (id INT);
      CREATE USER 'reader'@'%' IDENTIFIED BY '${password}'; GRANT SELECT, DELETE ON shop.orders TO 'reader'@'%'`);
  }, 180_000);
  afterAll(async () => Promise.all([pg?.stop(), maria?.stop()]));

  // The test's own secret store stands in for file/env/vault.
  const policy = { ...DEFAULT_POLICY, allowedSecretSchemes: [...DEFAULT_POLICY.allowedSecretSchemes, 'test'] };
  // With the contract facts the handshake carries (the server's schema fills in the config's).
  const audit = async (spec: ConnectorSpec) => judgeCredential(await gatherFacts('acme', spec, contractFactsOf(spec), { connectors: getConnector, scopes }, silentLogger()), policy);
  const spec = (sourceType: string, config: Record<string, unknown>, contractYaml: string): ConnectorSpec => ({ name: 'erp', sourceType, configJson: JSON.stringify(config), contractYaml, environment: 'dev', owner: null, labels: {} });

  it('PostgreSQL', async () => {
    const s = spec('postgres', pgReader, contract('postgres', pg.port, 'database: postgres\n    schema: erp'));
    const before = await audit(s);
    expect(before.status).toBe('FAIL');
    expect(before.findings.find((f) => f.code === 'PERMISSION')).toMatchObject({ severity: 'HIGH', object: 'erp."Payroll"' });
    expect(fixes(before.findings).sort()).toEqual(['GRANT SELECT ON erp."Payroll" TO reader', 'REVOKE INSERT, UPDATE ON erp.orders FROM reader']);
    for (const statement of fixes(before.findings)) await pg.exec(statement);
    const after = await audit(s);
    expect(after.findings.filter((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL')).toEqual([]);
    expect(after.status).toBe('PASS');
  });

  it('MariaDB', async () => {
    const s = spec('mysql', { host: '127.0.0.1', port: maria.port, database: 'shop', user: 'reader', secretRef: 'test:reader' }, contract('mysql', maria.port, 'database: shop'));
    const before = await audit(s);
    expect(fixes(before.findings).sort()).toEqual(["GRANT SELECT ON shop.Payroll TO 'reader'", "REVOKE DELETE ON shop.orders FROM 'reader'"]);
    for (const statement of fixes(before.findings)) await maria.exec(statement);
    const after = await audit(s);
    expect(after.findings.filter((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL')).toEqual([]);
  });
});
