import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { sampleEvents, type ConnectorHandshake, type ConnectorSchemaChecked, type ConnectorValidated } from '@preflight/events';
import { contractFactsFallbacks, contractFactsOf } from '@preflight/contracts';
import { testLogger } from '@preflight/testkit';
import { datasetNamespace, finishEvent, startEvent, type RunEvent } from './openlineage.js';
import { lineageHandlers } from './handler.js';

// The spec's own JSON schemas (spec/, copied from OpenLineage), draft 2020-12.
const specDir = fileURLToPath(new URL('../spec/', import.meta.url));
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:[^\s]*$/i);
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
for (const f of readdirSync(specDir).filter((x) => x.endsWith('.json'))) ajv.addSchema(JSON.parse(readFileSync(specDir + f, 'utf8')) as object);

/** The whole event against RunEvent, and each facet against its own facet schema. */
function problems(e: RunEvent): string[] {
  const out: string[] = [];
  const check = (ref: string, value: unknown, at: string): void => {
    const validate = ajv.getSchema(ref);
    if (!validate) throw new Error(`no schema ${ref}`);
    if (!validate(value)) out.push(...(validate.errors ?? []).map((x) => `${at}${x.instancePath} ${x.message ?? ''}`));
  };
  check(e.schemaURL, e, 'event');
  for (const [name, f] of Object.entries(e.run.facets ?? {})) check(f._schemaURL, f, `run.facets.${name}`);
  for (const d of e.inputs) for (const [name, f] of Object.entries({ ...d.facets, ...d.inputFacets })) check(f._schemaURL, f, `${d.name}.${name}`);
  return out;
}

const contract = `apiVersion: v3.0.2
kind: DataContract
id: crm
version: 1.0.0
status: active
schema:
  - name: customers
    properties:
      - name: id
        logicalType: integer
        physicalType: integer
      - name: email
        logicalType: string
  - name: orders
    properties:
      - name: order_id
        logicalType: integer
`;

function attempt(status: 'READY' | 'FAILED'): { h: ConnectorHandshake; s: ConnectorSchemaChecked; v: ConnectorValidated } {
  const ev = sampleEvents({ correlationId: randomUUID(), connectorId: 'acme.crm' });
  const spec = { ...ev['connector.handshake'].spec, contractYaml: contract };
  // The facts the handshake carries for this contract.
  const h: ConnectorHandshake = { ...ev['connector.handshake'], error: null, spec, contractFacts: contractFactsOf(spec), audit: { 'source.host': 'db.acme.internal', 'source.port': '5432', 'source.database': 'crm', 'source.schema': 'public' } };
  const s: ConnectorSchemaChecked = {
    ...ev['connector.schema.checked'],
    diff: [{ kind: 'TYPE_MISMATCH', dataset: 'customers', field: 'id', expected: 'integer', actual: 'bigint', severity: 'WARNING', message: 'id is bigint', pii: false }],
    checkpoint: {
      success: status === 'READY',
      engine: 'pushdown-sql',
      evaluatedExpectations: 3,
      successfulExpectations: status === 'READY' ? 3 : 2,
      unsuccessfulExpectations: status === 'READY' ? 0 : 1,
      successPercent: status === 'READY' ? 100 : 66.7,
      results: [
        { expectationType: 'expect_column_values_to_not_be_null', kwargsJson: '{"column":"email"}', success: status === 'READY', elementCount: 200, unexpectedCount: status === 'READY' ? 0 : 20, unexpectedPercent: status === 'READY' ? 0 : 10, partialUnexpectedList: [], observedValue: null, exceptionMessage: null, severity: 'error', ruleSeverity: null, unexpectedRows: [] },
        { expectationType: 'expect_column_values_to_be_unique', kwargsJson: '{"column":"order_id"}', success: true, elementCount: 50, unexpectedCount: 0, unexpectedPercent: 0, partialUnexpectedList: [], observedValue: null, exceptionMessage: null, severity: 'error', ruleSeverity: null, unexpectedRows: [] },
        { expectationType: 'expect_column_to_exist', kwargsJson: '{"column":"id"}', success: true, elementCount: null, unexpectedCount: null, unexpectedPercent: null, partialUnexpectedList: [], observedValue: null, exceptionMessage: null, severity: 'error', ruleSeverity: null, unexpectedRows: [] },
      ],
    },
  };
  const v: ConnectorValidated = { ...ev['connector.validated'], status, reason: status === 'READY' ? null : 'QUALITY' };
  return { h, s, v };
}

describe('OpenLineage run events', () => {
  it('START names the job preflight.<connector>, the attempt as run id, the contract datasets as inputs, and is valid 2-0-2', () => {
    const { h } = attempt('READY');
    const e = startEvent(h, { namespace: 'connector-preflight' });
    expect(e).toMatchObject({ eventType: 'START', run: { runId: h.correlationId }, job: { namespace: 'connector-preflight', name: 'preflight.acme.crm' } });
    expect(e.inputs.map((d) => [d.namespace, d.name])).toEqual([
      ['postgres://db.acme.internal:5432', 'crm.public.customers'],
      ['postgres://db.acme.internal:5432', 'crm.public.orders'],
    ]);
    expect(Date.parse(e.eventTime)).toBe(Math.floor(Date.parse(h.occurredAt) - h.durationMs));
    expect(problems(e)).toEqual([]);
  });

  it('COMPLETE for READY carries schema, assertions per dataset, metrics and the run-level checks', () => {
    const { h, s, v } = attempt('READY');
    const e = finishEvent(v, { handshake: h, schema: s, credentials: sampleEvents()['connector.credentials.audited'] }, { namespace: 'ns' });
    expect(e.eventType).toBe('COMPLETE');
    const customers = e.inputs.find((d) => d.name.endsWith('customers'))!;
    expect(customers.facets!['schema']!['fields']).toEqual([{ name: 'id', type: 'bigint', ordinal_position: 1 }, { name: 'email', type: 'string', ordinal_position: 2 }]);
    expect(customers.inputFacets!['dataQualityAssertions']!['assertions']).toEqual([
      { assertion: 'not_null', success: true, column: 'email', severity: 'error', name: 'expect_column_values_to_not_be_null' },
      { assertion: 'column_exists', success: true, column: 'id', severity: 'error', name: 'expect_column_to_exist' },
    ]);
    expect(e.inputs.find((d) => d.name.endsWith('orders'))!.inputFacets!['dataQualityAssertions']!['assertions']).toEqual([{ assertion: 'unique', success: true, column: 'order_id', severity: 'error', name: 'expect_column_values_to_be_unique' }]);
    expect(customers.inputFacets!['dataQualityMetrics']).toMatchObject({ rowCount: 200, columnMetrics: { email: { nullCount: 0 } } });
    expect((e.run.facets!['test']!['tests'] as Array<{ name: string }>).map((t) => t.name)).toEqual(['connectivity', 'credential_audit', 'schema_contract']);
    expect(e.run.facets!['errorMessage']).toBeUndefined();
    expect(problems(e)).toEqual([]);
  });

  it('FAIL for FAILED says why, with the failing assertion and its null count', () => {
    const { h, s, v } = attempt('FAILED');
    const e = finishEvent(v, { handshake: h, schema: s }, { namespace: 'ns' });
    expect(e.eventType).toBe('FAIL');
    expect(e.run.facets!['errorMessage']).toMatchObject({ message: 'preflight FAILED: QUALITY' });
    const customers = e.inputs.find((d) => d.name.endsWith('customers'))!;
    expect(customers.inputFacets!['dataQualityAssertions']!['assertions']).toContainEqual(expect.objectContaining({ assertion: 'not_null', success: false, column: 'email' }));
    expect(customers.inputFacets!['dataQualityMetrics']!['columnMetrics']).toEqual({ email: { nullCount: 20 } });
    expect(problems(e)).toEqual([]);
  });

  it('a schema violation is caught by the validator (the check can fail)', () => {
    const { h } = attempt('READY');
    const bad = { ...startEvent(h, { namespace: 'ns' }), run: { runId: 'not-a-uuid' } };
    expect(problems(bad).join('\n')).toMatch(/runId must match format "uuid"/);
  });

  it('reads the datasets from the contract facts the handshake carries, not from its YAML', () => {
    const { h, s, v } = attempt('READY');
    const before = contractFactsFallbacks();
    const e = finishEvent(v, { handshake: { ...h, spec: { ...h.spec, contractYaml: 'not: [valid' } }, schema: s }, { namespace: 'ns' });
    expect(e.inputs.map((d) => d.name)).toEqual(['crm.public.customers', 'crm.public.orders']);
    expect(e.inputs[1]!.inputFacets!['dataQualityAssertions']!['assertions']).toEqual([expect.objectContaining({ assertion: 'unique', column: 'order_id' })]);
    expect(contractFactsFallbacks()).toBe(before);
    // Where the config does not name the schema, the contract's server (the facts' namespace) does.
    const { 'source.schema': _s, ...audit } = h.audit;
    const facts = { ...h.contractFacts!, datasets: h.contractFacts!.datasets.map((d) => ({ ...d, namespace: 'sales' })) };
    expect(startEvent({ ...h, audit, contractFacts: facts }, { namespace: 'ns' }).inputs.map((d) => d.name)).toEqual(['crm.sales.customers', 'crm.sales.orders']);
  });

  it('a handshake written before facts were carried: the handler parses its contract once, counted', async () => {
    const { h } = attempt('READY');
    const emitted: RunEvent[] = [];
    const handlers = lineageHandlers({ transport: { emit: async (e: RunEvent) => void emitted.push(e) }, settings: { namespace: 'ns' }, logger: testLogger() });
    const before = contractFactsFallbacks();
    await (handlers['connector.handshake'] as (e: ConnectorHandshake, m: never) => Promise<void>)({ ...h, contractFacts: null }, {} as never);
    expect(emitted[0]!.inputs.map((d) => d.name)).toEqual(['crm.public.customers', 'crm.public.orders']);
    expect(contractFactsFallbacks()).toBe(before + 1);
    await (handlers['connector.handshake'] as (e: ConnectorHandshake, m: never) => Promise<void>)({ ...h, contractFacts: null, spec: { ...h.spec, contractYaml: 'not: [valid' } }, {} as never);
    expect(emitted[1]!.inputs).toEqual([]);
  });

  it('names datasets by OpenLineage conventions for every source type', () => {
    expect(datasetNamespace('mysql', { 'source.host': 'h', 'source.port': '3307' })).toBe('mysql://h:3307');
    expect(datasetNamespace('rest', { 'source.baseUrl': 'https://api.acme.example/v1' })).toBe('https://api.acme.example');
    expect(datasetNamespace('files', { 'source.path': 'exports/customers' })).toBe('file://exports/customers');
  });
});
