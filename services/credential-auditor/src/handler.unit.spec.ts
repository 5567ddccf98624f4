import { describe, expect, it } from 'vitest';
import { testLogger } from '@preflight/testkit';
import { sampleEvents, type ConnectorCredentialsAudited, type ConnectorEvent, type ConnectorHandshake } from '@preflight/events';
import { contractFactsFallbacks } from '@preflight/contracts';
import type { AccessFacts, ConnectorModule, Scopes } from '@preflight/connectors';
import { auditorHandlers } from './handler.js';

const contract = `apiVersion: v3.0.2
kind: DataContract
id: erp-orders
version: 1.0.0
status: active
servers:
  - server: prod
    type: postgres
    environment: production
    host: 127.0.0.1
    port: 5432
    database: erp
    schema: ledger
schema:
  - name: invoices
    properties:
      - name: id
        logicalType: integer
`;

/** A connector that records what the audit asks of it and sees every dataset readable. */
function auditWith(handshake: ConnectorHandshake): Promise<{ audited: ConnectorCredentialsAudited; asked: { config: Record<string, unknown>; datasets: string[] } | undefined }> {
  let asked: { config: Record<string, unknown>; datasets: string[] } | undefined;
  const module = {
    manifest: { contract: { secretFields: [] } },
    parseConfig: (c: unknown) => c,
    auditAccess: (config: Record<string, unknown>, _ctx: unknown, datasets: string[]): Promise<AccessFacts> => {
      asked = { config, datasets };
      return Promise.resolve({ principal: 'reader', superuser: false, canCreateRole: false, canCreateDb: false, readable: datasets, writable: [], grants: [], tls: true, host: '127.0.0.1' });
    },
  } as unknown as ConnectorModule;
  const published: ConnectorEvent[] = [];
  const h = auditorHandlers({
    connectors: () => module,
    scopes: { forTenant: () => ({}) } as unknown as Scopes,
    logger: testLogger(),
    publish: (...e) => {
      published.push(...e);
      return Promise.resolve();
    },
  });
  return (h['connector.handshake'] as (e: ConnectorHandshake, m: never) => Promise<void>)(handshake, {} as never).then(() => ({ audited: published[0] as ConnectorCredentialsAudited, asked }));
}

const sample = sampleEvents()['connector.handshake'];
const config = { type: 'postgres', host: '127.0.0.1', port: 5432, database: 'erp', user: 'reader' };
const handshake: ConnectorHandshake = { ...sample, status: 'COMPLETED', error: null, spec: { ...sample.spec, configJson: JSON.stringify(config) } };

describe('credential audit reads the contract facts the handshake carries', () => {
  it('audits the datasets and server of the facts without parsing the contract', async () => {
    const before = contractFactsFallbacks();
    // A contract that would not parse: parsing it would end the audit in ERROR.
    const { audited, asked } = await auditWith({ ...handshake, spec: { ...handshake.spec, contractYaml: 'not: [valid' } });
    expect(audited).toMatchObject({ eventType: 'connector.credentials.audited', error: null });
    expect(asked!.datasets).toEqual(['customers']);
    // The facts' server fills in the schema the config leaves out.
    expect(asked!.config).toMatchObject({ schema: 'sales' });
    expect(contractFactsFallbacks()).toBe(before);
  });

  it('a handshake written before facts were carried parses its contract once, counted', async () => {
    const before = contractFactsFallbacks();
    const { audited, asked } = await auditWith({ ...handshake, contractFacts: null, spec: { ...handshake.spec, contractYaml: contract } });
    expect(audited.error).toBeNull();
    expect(asked).toMatchObject({ datasets: ['invoices'], config: { schema: 'ledger' } });
    expect(contractFactsFallbacks()).toBe(before + 1);
    // And with neither facts nor a parseable contract, the audit says why instead of guessing.
    const bad = await auditWith({ ...handshake, contractFacts: null, spec: { ...handshake.spec, contractYaml: 'not: [valid' } });
    expect(bad.audited).toMatchObject({ status: 'ERROR', error: { code: 'VALIDATION' } });
  });
});
