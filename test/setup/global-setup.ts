import type { TestProject } from 'vitest/node';
import { startKafka, cleanTmpKafka, type KafkaHandle } from '@preflight/local-infra';

/**
 * One real broker (and registry) per test run, unless the environment names existing ones
 * (KAFKA_BROKERS / SCHEMA_REGISTRY_URL), e.g. `npm run infra:up` on a developer machine.
 * Every test still isolates itself with its own random topic names and consumer groups.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  cleanTmpKafka();
  let brokers = process.env['KAFKA_BROKERS'];
  let kafka: KafkaHandle | undefined;
  if (!brokers) {
    kafka = await startKafka({ log: (l) => console.log(`[global-setup] ${l}`) });
    brokers = kafka.brokers;
    stops.push(() => kafka!.stop());
  }
  process.env['KAFKA_BROKERS'] = brokers;
  project.provide('kafkaBrokers', brokers);

  let registryUrl = process.env['SCHEMA_REGISTRY_URL'];
  if (!registryUrl) {
    const { startSchemaRegistry } = await import('@preflight/schema-registry');
    const reg = await startSchemaRegistry({ brokers, port: 0, topic: `_schemas_test_${process.pid}` });
    registryUrl = reg.url;
    stops.unshift(() => reg.close());
  }
  process.env['SCHEMA_REGISTRY_URL'] = registryUrl;
  project.provide('schemaRegistryUrl', registryUrl);

  return async () => {
    for (const stop of stops) await stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
  }
}
