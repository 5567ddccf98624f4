import { describe, expect, it } from 'vitest';
import { applyFactsServer, applyServer, carriedContractFacts, contractFactsFallbacks, contractFactsOf, deriveContractFacts, expectationDataset, expectationDatasetOf, parseContract } from './index.js';

const yaml = `apiVersion: v3.1.0
kind: DataContract
id: crm
version: 2.1.0
status: active
servers:
  - server: prod
    type: postgres
    environment: production
    host: db.acme.internal
    port: 5432
    database: crm
    schema: sales
  - server: dev
    type: postgres
    environment: development
    host: localhost
    port: 5433
    database: crm_dev
    schema: sales_dev
schema:
  - name: customers
    physicalName: tbl_customers
    properties:
      - name: id
        logicalType: integer
        physicalType: bigint
      - name: email
        physicalName: email_address
        logicalType: string
        classification: pii
      - name: card
        logicalType: string
        tags: [pci]
  - name: orders
    properties:
      - name: order_id
        logicalType: integer
`;

const spec = (config: Record<string, unknown>, environment = 'production', sourceType = 'postgres') => ({ sourceType, environment, configJson: JSON.stringify(config), contractYaml: yaml });

describe('contract facts', () => {
  it('carries id, version, datasets with the namespace the server resolves, PII fields and the chosen server', () => {
    const facts = deriveContractFacts(parseContract(yaml), { sourceType: 'postgres', environment: 'production', config: { host: 'h', user: 'reader', secretRef: 'env:PW' } });
    expect(facts).toEqual({
      id: 'crm',
      version: '2.1.0',
      datasets: [
        { name: 'tbl_customers', namespace: 'sales', fields: [{ name: 'id', type: 'bigint', pii: false }, { name: 'email_address', type: 'string', pii: true }, { name: 'card', type: 'string', pii: true }] },
        { name: 'orders', namespace: 'sales', fields: [{ name: 'order_id', type: 'integer', pii: false }] },
      ],
      piiFields: ['tbl_customers.email_address', 'tbl_customers.card'],
      server: { name: 'prod', type: 'postgres', environment: 'production', host: 'db.acme.internal', port: 5432, database: 'crm', schema: 'sales' },
    });
    // Nothing of the connector's config travels with the facts: no principal, no secret reference.
    expect(JSON.stringify(facts)).not.toMatch(/reader|secretRef|env:PW/);
  });

  it('the config wins over the server, config.server picks one, and no server means the default namespace', () => {
    expect(contractFactsOf(spec({ schema: 'own' }))!.datasets[0]!.namespace).toBe('own');
    expect(contractFactsOf(spec({ server: 'dev' }))).toMatchObject({ server: { name: 'dev', port: 5433, database: 'crm_dev' }, datasets: [{ namespace: 'sales_dev' }, { namespace: 'sales_dev' }] });
    expect(contractFactsOf(spec({}, 'staging'))).toMatchObject({ server: null, datasets: [{ namespace: 'public' }, { namespace: 'public' }] });
    expect(contractFactsOf(spec({ database: 'shop' }, 'staging', 'mysql'))!.datasets[0]!.namespace).toBe('shop');
    expect(contractFactsOf(spec({}, 'production', 'files'))).toMatchObject({ server: null, datasets: [{ namespace: null }, { namespace: null }] });
    expect(contractFactsOf({ ...spec({}), contractYaml: null })).toBeNull();
  });

  it('applying the facts server resolves the config exactly as applying the contract does', () => {
    const contract = parseContract(yaml);
    for (const [config, env] of [[{ host: 'h' }, 'production'], [{ host: 'h', server: 'dev' }, 'production'], [{ schema: 'public' }, 'production'], [{}, 'staging']] as const) {
      const facts = deriveContractFacts(contract, { sourceType: 'postgres', environment: env, config });
      const { server: _a, ...fromFacts } = applyFactsServer(facts, config, 'postgres');
      const { server: _b, ...fromContract } = applyServer(contract, config, { sourceType: 'postgres', environment: env });
      expect(fromFacts).toEqual(fromContract);
    }
  });

  it('an invalid contract is refused as parseContract refuses it', () => {
    expect(() => contractFactsOf({ ...spec({}), contractYaml: 'kind: nope' })).toThrow(/invalid data contract/);
  });

  it('carried facts are used as they are; only an event without them parses, and that is counted', () => {
    const carried = contractFactsOf(spec({}))!;
    const before = contractFactsFallbacks();
    const debug: unknown[] = [];
    const log = { debug: (...a: unknown[]) => void debug.push(a) } as never;
    // A YAML that would not parse proves the carried facts are not re-derived.
    expect(carriedContractFacts(carried, { ...spec({}), contractYaml: 'not: [valid' }, log)).toBe(carried);
    expect(contractFactsFallbacks()).toBe(before);
    expect(carriedContractFacts(null, spec({}), log)).toEqual(carried);
    expect(contractFactsFallbacks()).toBe(before + 1);
    expect(debug).toHaveLength(1);
    expect(carriedContractFacts(null, { ...spec({}), contractYaml: null }, log)).toBeNull();
    expect(contractFactsFallbacks()).toBe(before + 1);
  });

  it('tells which dataset an expectation belongs to from the facts as from the contract', () => {
    const contract = parseContract(yaml);
    const facts = contractFactsOf(spec({}))!;
    for (const kwargs of [{ column: 'email_address' }, { column: 'order_id' }, { column_list: ['id', 'card'] }, {}, { column: 'nope' }]) {
      expect(expectationDatasetOf(facts.datasets, kwargs)).toBe(expectationDataset(contract, kwargs));
    }
    expect(expectationDatasetOf(facts.datasets, { column: 'order_id' })).toBe('orders');
  });
});
