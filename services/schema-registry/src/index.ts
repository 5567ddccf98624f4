import type { Logger } from '@preflight/core';
import { buildHttp } from './http.js';
import { SchemaLog } from './log.js';
import { Registry } from './registry.js';
import { RegistryState } from './store.js';

export { checkAvroCompatibility, LEVELS, type CompatibilityLevel } from './compat.js';
export { RegistryState, canonicalize } from './store.js';
export { CODES as REGISTRY_ERROR_CODES } from './errors.js';

export interface RegistryOptions {
  brokers: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  topic?: string;
  logger?: Logger;
}

export interface RegistryHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a Confluent-compatible registry that keeps its state in a compacted Kafka topic. */
export async function startSchemaRegistry(options: RegistryOptions): Promise<RegistryHandle> {
  const state = new RegistryState();
  const log = new SchemaLog(options.brokers, options.topic ?? '_schemas', (key, value) => state.apply(key, value));
  await log.start();
  const app = buildHttp(new Registry(state, log), options.logger);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 8081 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.port ?? 8081);
  options.logger?.info({ port, topic: options.topic ?? '_schemas' }, 'schema registry listening');
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      await app.close();
      await log.stop();
    },
  };
}
