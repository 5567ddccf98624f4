import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createBus } from '@preflight/bus';
import { sampleEvents } from '@preflight/events';
import { eventually, testBusConfig, testLogger } from '@preflight/testkit';
import { startContractFactsPublisher, startSchemaRegistry } from './index.js';

const contractYaml = `
apiVersion: v3.1.0
kind: DataContract
id: crm-customers
version: 1.0.0
status: active
schema:
  - name: customers
    properties:
      - name: id
        logicalType: integer
        required: true
      - name: email
        logicalType: string
        classification: PII
`;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('publishing contract facts (opt-in)', () => {
  it("registers each dataset of a registered connector's contract as a subject tagged with its PII columns", async () => {
    const topic = `_schemas_${randomUUID()}`;
    const registry = await startSchemaRegistry({ brokers: process.env['KAFKA_BROKERS']!, port: 0, topic });
    const bus = createBus(testBusConfig(), testLogger());
    cleanups.push(async () => {
      const admin = bus.kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    });
    cleanups.push(() => registry.close());
    cleanups.push(() => bus.stop());
    await bus.ensureTopics(1);
    await bus.producer.start();
    const publisher = await startContractFactsPublisher({ bus, logger: testLogger(), registryUrl: registry.url });
    cleanups.push(() => publisher.stop());

    const connectorId = `crm-${randomUUID().slice(0, 8)}`;
    const registered = sampleEvents({ connectorId, correlationId: randomUUID() })['connector.registered'];
    const withoutContract = sampleEvents({ connectorId: `${connectorId}-none`, correlationId: randomUUID() })['connector.registered'];
    await bus.producer.publish({ ...withoutContract, spec: { ...withoutContract.spec, contractYaml: null } }, { ...registered, spec: { ...registered.spec, contractYaml } });

    const subject = `${connectorId}.customers-value`;
    const version = await eventually(
      'the contract subject',
      async () => {
        const res = await fetch(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`);
        return res.ok ? ((await res.json()) as { id: number; schema: string; metadata: { tags: Record<string, string[]>; properties: Record<string, string> } }) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(version.metadata.tags).toEqual({ [`preflight.${connectorId.replace(/-/g, '_')}.customers.email`]: ['PII'] });
    expect(version.metadata.properties).toMatchObject({ 'contract.id': 'crm-customers', 'contract.version': '1.0.0', 'preflight.connector': connectorId });
    expect(JSON.parse(version.schema).fields.map((f: { name: string }) => f.name)).toEqual(['id', 'email']);
    // Only the connector with a contract got a subject.
    expect(await (await fetch(`${registry.url}/subjects`)).json()).toEqual([subject]);
  });
});
