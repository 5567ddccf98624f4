import { busConfigOrExit, createBus, explainKafkaFailure, kafkaClientSecurity, type Bus, type ConfigError } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { registryConfig, type RegistryConfig } from './config.js';
import { startContractFactsPublisher, startSchemaRegistry } from './index.js';

const logger = createLogger({ service: 'schema-registry', version: '0.1.0' });

// The same Kafka settings as every service (KAFKA_BROKERS, KAFKA_SSL_*, KAFKA_SASL_*), checked
// the same way: every problem listed at once.
const config = busConfigOrExit('schema-registry', logger);

let own: RegistryConfig;
try {
  own = registryConfig();
} catch (e) {
  logger.error({ issues: (e as ConfigError).issues }, (e as Error).message);
  process.stderr.write(`schema-registry: ${(e as Error).message}\n`);
  process.exit(2);
}

let handle: Awaited<ReturnType<typeof startSchemaRegistry>>;
try {
  handle = await startSchemaRegistry({
    brokers: config.brokers.join(','),
    kafkaClient: kafkaClientSecurity(config.kafkaSecurity),
    host: own.host,
    port: own.port,
    topic: own.topic,
    logger,
  });
} catch (err) {
  const why = explainKafkaFailure(err, config);
  logger.error({ err }, `schema registry failed to start: ${why.message}`);
  process.stderr.write(`schema-registry: ${why.message}\n`);
  process.exit(1);
}

// Opt-in: mirror each registered connector's contract into this registry (see docs/schema-registry.md).
let publisher: { bus: Bus; running: { stop(): Promise<void> } } | undefined;
if (own.publishContracts) {
  try {
    const bus = createBus({ ...config, schemaRegistryUrl: handle.url }, logger, { produces: [] });
    await bus.ensureTopics();
    const running = await startContractFactsPublisher({ bus, logger, registryUrl: handle.url });
    publisher = { bus, running };
    logger.info('publishing connector contracts as subjects');
  } catch (err) {
    logger.error({ err }, 'the contract publisher failed to start');
    await handle.close();
    process.exit(1);
  }
}

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'schema registry stopping');
  const stopPublisher = async (): Promise<void> => {
    if (!publisher) return;
    await publisher.running.stop();
    await publisher.bus.stop();
  };
  stopPublisher()
    .then(() => handle.close())
    .then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'schema registry did not stop cleanly');
        process.exit(1);
      },
    );
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
