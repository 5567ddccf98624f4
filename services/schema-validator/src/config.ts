import { SettingsReader } from '@preflight/bus';

/** The schema validator's own settings, read once at start (docs/configuration.md). */
export interface SchemaValidatorConfig {
  /** Incidents are POSTed here as JSON; absent: logged only. A secret (it may carry a token). */
  incidentWebhookUrl: string | undefined;
}

/** Every problem at once, each naming its variable (a ConfigError); the webhook's value is never shown. */
export function schemaValidatorConfig(env: NodeJS.ProcessEnv = process.env): SchemaValidatorConfig {
  const r = new SettingsReader(env);
  return r.done({ incidentWebhookUrl: r.url('INCIDENT_WEBHOOK_URL', { secret: true }) });
}
