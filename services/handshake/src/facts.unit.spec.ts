import { describe, expect, it } from 'vitest';
import { PreflightError } from '@preflight/core';
import { testLogger } from '@preflight/testkit';
import { sampleEvents, type ConnectorEvent, type ConnectorHandshake } from '@preflight/events';
import { contractFactsFallbacks } from '@preflight/contracts';
import type { Scopes } from '@preflight/connectors';
import { handshakeHandlers } from './handler.js';

const samples = sampleEvents();
const contract = `apiVersion: v3.0.2
kind: DataContract
id: erp-orders
version: 3.0.0
status: active
servers:
  - server: prod
    type: postgres
    environment: production
    host: db.erp.internal
    port: 5432
    database: erp
    schema: sales
schema:
  - name: customers
    properties:
      - name: email
        logicalType: string
        classification: pii
`;
const spec = { ...samples['connector.registered'].spec, contractYaml: contract };
const expected = {
  id: 'erp-orders',
  version: '3.0.0',
  datasets: [{ name: 'customers', namespace: 'sales', fields: [{ name: 'email', type: 'string', pii: true }] }],
  piiFields: ['customers.email'],
  server: { name: 'prod', type: 'postgres', environment: 'production', host: 'db.erp.internal', port: 5432, database: 'erp', schema: 'sales' },
};

/** The connector lookup fails with CONFIG: the handshake reports FAILED without reaching a source, facts still travel. */
async function handshakeFor(input: ConnectorEvent): Promise<ConnectorHandshake> {
  const published: ConnectorEvent[] = [];
  const h = handshakeHandlers({
    connectors: () => {
      throw new PreflightError('CONFIG', 'no module in this test', { retriable: false });
    },
    scopes: {} as Scopes,
    logger: testLogger(),
    publish: (...e) => {
      published.push(...e);
      return Promise.resolve();
    },
  });
  await (h[input.eventType] as (e: ConnectorEvent, m: never) => Promise<void>)(input, {} as never);
  return published.find((e): e is ConnectorHandshake => e.eventType === 'connector.handshake')!;
}

describe('the handshake carries the contract facts downstream', () => {
  it('passes on the facts a registration brings, without parsing the contract', async () => {
    const before = contractFactsFallbacks();
    // A contract that would not parse: were it parsed, the facts would be null.
    const hs = await handshakeFor({ ...samples['connector.registered'], spec: { ...spec, contractYaml: 'not: [valid' } });
    expect(hs.contractFacts).toEqual(samples['connector.registered'].contractFacts);
    expect(contractFactsFallbacks()).toBe(before);
  });

  it('parses once a registration an upstream producer wrote without facts, and attaches them', async () => {
    const before = contractFactsFallbacks();
    const { contractFacts: _none, ...raw } = { ...samples['connector.registered'], spec };
    const hs = await handshakeFor(raw);
    expect(hs.contractFacts).toEqual(expected);
    expect(contractFactsFallbacks()).toBe(before + 1);
    expect((await handshakeFor({ ...raw, contractFacts: null })).contractFacts).toEqual(expected);
  });

  it('a request or an update (which never carry facts) gets them here too; a contract that does not parse gives none', async () => {
    expect((await handshakeFor({ ...samples['connector.handshake.requested'], spec })).contractFacts).toEqual(expected);
    expect((await handshakeFor({ ...samples['connector.updated'], spec })).contractFacts).toEqual(expected);
    const bad = await handshakeFor({ ...samples['connector.handshake.requested'], spec: { ...spec, contractYaml: 'kind: nope' } });
    expect(bad).toMatchObject({ status: 'FAILED', contractFacts: null });
    expect((await handshakeFor({ ...samples['connector.handshake.requested'], spec: { ...spec, contractYaml: null } })).contractFacts).toBeNull();
  });
});
