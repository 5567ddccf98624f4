import { SettingsReader } from '@preflight/bus';
import { DEFAULT_MAX_FAILED_ROW_SAMPLES } from '@preflight/contracts';

/** The schema validator's own settings, read once at start (docs/configuration.md). */
export interface SchemaValidatorConfig {
  /** Incidents are POSTed here as JSON; absent: logged only. A secret (it may carry a token). */
  incidentWebhookUrl: string | undefined;
  /** Failed rows kept per failed expectation in a receipt (0 turns samples off). */
  maxFailedRowSamples: number;
}

/** Every problem at once, each naming its variable (a ConfigError); the webhook's value is never shown. */
export function schemaValidatorConfig(env: NodeJS.ProcessEnv = process.env): SchemaValidatorConfig {
  const r = new SettingsReader(env);
  return r.done({ incidentWebhookUrl: r.url('INCIDENT_WEBHOOK_URL', { secret: true }), maxFailedRowSamples: r.wholeNumber('PREFLIGHT_FAILED_ROW_SAMPLES_MAX', DEFAULT_MAX_FAILED_ROW_SAMPLES) });
}
