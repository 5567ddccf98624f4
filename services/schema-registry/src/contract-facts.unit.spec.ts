import { describe, expect, it } from 'vitest';
import { parseContract } from '@preflight/contracts';
import { parseAvro } from './avro.js';
import { columnTags, contractSubjects, publishContractFacts } from './contract-facts.js';
import { parseMetadata } from './contract.js';

const CONTRACT = `
apiVersion: v3.1.0
kind: DataContract
id: crm-customers
version: 1.2.0
status: active
domain: sales
schema:
  - name: customers
    physicalName: crm.customers
    properties:
      - name: id
        logicalType: integer
        required: true
      - name: email
        logicalType: string
        classification: PII
      - name: signed_up
        logicalType: timestamp
        tags: [gdpr]
      - name: 2fa-enabled
        logicalType: boolean
  - name: orders
    properties:
      - name: total
        logicalType: number
`;

describe('contract facts as registry subjects', () => {
  const subjects = contractSubjects(parseContract(CONTRACT), 'crm-1');

  it('makes one subject per dataset with a valid Avro record of its columns', () => {
    expect(subjects.map((s) => s.subject)).toEqual(['crm-1.crm.customers-value', 'crm-1.orders-value']);
    const schema = JSON.parse(subjects[0]!.schema) as { name: string; namespace: string; fields: Array<{ name: string; type: unknown }> };
    expect(() => parseAvro(schema)).not.toThrow();
    expect(schema.name).toBe('crm_customers');
    expect(schema.namespace).toBe('preflight.crm_1');
    expect(schema.fields).toEqual([
      { name: 'id', type: 'long' },
      { name: 'email', type: ['null', 'string'], default: null },
      { name: 'signed_up', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
      { name: '_2fa_enabled', type: ['null', 'boolean'], default: null },
    ]);
  });

  it("tags PII columns by their field path and names the contract in the properties, in Confluent's metadata shape", () => {
    expect(subjects[0]!.metadata).toEqual({
      properties: { 'contract.domain': 'sales', 'contract.id': 'crm-customers', 'contract.status': 'active', 'contract.version': '1.2.0', 'preflight.connector': 'crm-1' },
      tags: { 'preflight.crm_1.crm_customers.email': ['PII'], 'preflight.crm_1.crm_customers.signed_up': ['PII', 'gdpr'] },
    });
    expect(parseMetadata(subjects[0]!.metadata)).toEqual(subjects[0]!.metadata);
    expect(subjects[1]!.metadata.tags).toBeUndefined();
    expect(columnTags({ name: 'x', classification: 'internal' })).toEqual(['INTERNAL']);
  });

  it('posts each subject with its metadata and reports a refused one instead of stopping', async () => {
    const calls: Array<{ url: string; body: unknown }> = [];
    const fake = (async (url: string, init: { body: string }) => {
      calls.push({ url, body: JSON.parse(init.body) });
      const refused = url.includes('orders');
      return new Response(JSON.stringify(refused ? { error_code: 409, message: 'incompatible' } : { id: 7 }), { status: refused ? 409 : 200 });
    }) as unknown as typeof fetch;
    const out = await publishContractFacts('http://registry', 'crm-1', CONTRACT, fake);
    expect(out).toEqual([
      { subject: 'crm-1.crm.customers-value', id: 7 },
      { subject: 'crm-1.orders-value', error: '409: incompatible' },
    ]);
    expect(calls[0]).toEqual({ url: 'http://registry/subjects/crm-1.crm.customers-value/versions', body: { schema: subjects[0]!.schema, metadata: subjects[0]!.metadata } });
  });
});
