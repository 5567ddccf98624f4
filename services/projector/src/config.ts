import { SettingsReader } from '@preflight/bus';
import { authConfigFromEnv, type AuthConfig } from '@preflight/auth';
import { DEFAULT_OPERATION_TIMEOUT_MS } from './projection.js';

/** The projector's own settings, read once at start (docs/configuration.md). */
export interface ProjectorConfig {
  http: { host: string; port: number };
  /** This replica's name when several projectors each serve the full read model. */
  instance: string;
  operationTimeoutMs: number;
  /** The API's public URL as agents reach it; absent: each request's own origin. */
  publicUrl: string | undefined;
  /** Browser origins besides the API's own that may call `/mcp`. */
  mcpAllowedOrigins: string[];
  /** No JWT key or secret is configured: tokens signed with the development secret are accepted. */
  developmentTokens: boolean;
}


/** Every problem at once, each naming its variable and value (a ConfigError). */
export function projectorConfig(env: NodeJS.ProcessEnv = process.env): ProjectorConfig {
  const r = new SettingsReader(env);
  return r.done({
    http: { host: r.text('API_HOST', '127.0.0.1'), port: r.port('API_PORT', 8080) },
    instance: r.text('PROJECTOR_INSTANCE', ''),
    operationTimeoutMs: r.wholeNumber('OPERATION_TIMEOUT_MS', DEFAULT_OPERATION_TIMEOUT_MS, 1),
    publicUrl: r.url('PREFLIGHT_PUBLIC_URL'),
    mcpAllowedOrigins: r.list('PREFLIGHT_MCP_ALLOWED_ORIGINS'),
    developmentTokens: ['PREFLIGHT_JWT_SECRET', 'PREFLIGHT_JWT_SECRET_FILE', 'PREFLIGHT_JWKS_URL', 'PREFLIGHT_JWT_PUBLIC_KEY'].every((n) => r.get(n) === undefined),
  });
}

/** The API's token verification settings (JWT key or secret, issuer, audience), read once at start. */
export function projectorAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return authConfigFromEnv(env);
}
