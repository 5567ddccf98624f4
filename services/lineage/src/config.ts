import { SettingsReader } from '@preflight/bus';

/** The lineage service's own settings, read once at start (docs/configuration.md). */
export interface LineageConfig {
  /** The OpenLineage endpoint; absent: lineage is off. */
  url: string | undefined;
  apiKey: string | undefined;
  namespace: string;
}

/** Every problem at once, each naming its variable and value (a ConfigError). */
export function lineageConfig(env: NodeJS.ProcessEnv = process.env): LineageConfig {
  const r = new SettingsReader(env);
  return r.done({ url: r.url('OPENLINEAGE_URL'), apiKey: r.get('OPENLINEAGE_API_KEY'), namespace: r.text('OPENLINEAGE_NAMESPACE', 'connector-preflight') });
}

/** Whether an endpoint is set at all: without one the service stops before anything else. */
export function lineageEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return new SettingsReader(env).get('OPENLINEAGE_URL') !== undefined;
}
