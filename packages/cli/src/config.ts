// The CLI's settings, read from the environment in this one place (docs/configuration.md).

export interface CliSettings {
  /** The API to call when --api is not given. */
  apiUrl: string;
  /** A bearer token for the API; absent: a development token on a loopback API. */
  token: string | undefined;
  /** The development JWT secret (the platform's own when it was started with one). */
  jwtSecret: string | undefined;
}

export function cliSettings(env: NodeJS.ProcessEnv = process.env): CliSettings {
  const value = (name: string): string | undefined => (env[name]?.trim() ? env[name] : undefined);
  return { apiUrl: value('PREFLIGHT_API_URL') ?? 'http://127.0.0.1:8080', token: value('PREFLIGHT_TOKEN'), jwtSecret: value('PREFLIGHT_JWT_SECRET') };
}
