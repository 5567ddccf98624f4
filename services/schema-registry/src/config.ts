import { SettingsReader } from '@preflight/bus';

/** The bundled registry's own settings, read once at start (docs/configuration.md). */
export interface RegistryConfig {
  host: string;
  port: number;
  /** The compacted topic the schemas are stored in. */
  topic: string;
  /** Mirror each registered connector's contract into this registry as subjects. */
  publishContracts: boolean;
}

/** Every problem at once, each naming its variable and value (a ConfigError). */
export function registryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  const r = new SettingsReader(env);
  return r.done({
    host: r.text('SCHEMA_REGISTRY_HOST', '127.0.0.1'),
    port: r.port('SCHEMA_REGISTRY_PORT', 8081),
    topic: r.text('SCHEMA_REGISTRY_TOPIC', '_schemas'),
    publishContracts: r.boolean('SCHEMA_REGISTRY_PUBLISH_CONTRACTS', false),
  });
}
