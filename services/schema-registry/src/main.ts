import { createLogger } from '@preflight/core';
import { startSchemaRegistry } from './index.js';

const logger = createLogger({ service: 'schema-registry', version: '0.1.0' });
const handle = await startSchemaRegistry({
  brokers: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
  host: process.env['SCHEMA_REGISTRY_HOST'] ?? '127.0.0.1',
  port: Number(process.env['SCHEMA_REGISTRY_PORT'] ?? 8081),
  topic: process.env['SCHEMA_REGISTRY_TOPIC'] ?? '_schemas',
  logger,
});
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  handle.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
