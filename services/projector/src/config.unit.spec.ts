import { describe, expect, it } from 'vitest';
import { ConfigError } from '@preflight/bus';
import { projectorConfig } from './config.js';

describe('projector config', () => {
  it('defaults without any setting', () => {
    expect(projectorConfig({})).toEqual({ http: { host: '127.0.0.1', port: 8080 }, instance: '', operationTimeoutMs: 120_000, publicUrl: undefined, mcpAllowedOrigins: [], developmentTokens: true });
  });

  it('reads each setting once into one typed object', () => {
    const env = { API_HOST: '0.0.0.0', API_PORT: '9090', PROJECTOR_INSTANCE: 'p2', OPERATION_TIMEOUT_MS: '5000', PREFLIGHT_PUBLIC_URL: 'https://preflight.example.com/', PREFLIGHT_MCP_ALLOWED_ORIGINS: 'https://a.example, https://b.example', PREFLIGHT_JWKS_URL: 'https://idp.example/jwks' };
    expect(projectorConfig(env)).toEqual({ http: { host: '0.0.0.0', port: 9090 }, instance: 'p2', operationTimeoutMs: 5000, publicUrl: 'https://preflight.example.com', mcpAllowedOrigins: ['https://a.example', 'https://b.example'], developmentTokens: false });
  });

  it('lists every bad setting at once, naming the variable and its value', () => {
    let error: unknown;
    try {
      projectorConfig({ API_PORT: '80800', OPERATION_TIMEOUT_MS: 'soon', PREFLIGHT_PUBLIC_URL: 'preflight.example.com' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { field: 'API_PORT', message: 'must be a port number (0-65535)', value: '80800' },
      { field: 'OPERATION_TIMEOUT_MS', message: 'must be a whole number of at least 1', value: 'soon' },
      { field: 'PREFLIGHT_PUBLIC_URL', message: 'must be an http:// or https:// URL', value: 'preflight.example.com' },
    ]);
    expect((error as Error).message).toContain('invalid configuration (3 problems)');
    expect((error as Error).message).toContain('  - API_PORT: must be a port number (0-65535) (got "80800")');
  });
});
