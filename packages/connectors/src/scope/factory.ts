import type { Lookup } from './egress.js';
import { endpointsOf, scopePolicyFromEnv, withPlatformEndpoints, type PlatformEndpoint, type ScopePolicy } from './policy.js';
import { Scopes, type SecretStore } from './tenant-scope.js';

export interface DevScopesOptions {
  secretsRoot?: string;
  filesRoot?: string;
  platformEndpoints?: PlatformEndpoint[];
  /** Extra tenant-keyed stores, e.g. an in-memory `test:` store in a connector's own tests. */
  stores?: Record<string, SecretStore>;
  lookup?: Lookup;
}

/**
 * A service's scopes: the policy from the environment, plus the endpoints the process itself
 * talks to (its Kafka brokers, its registry), which are the platform's whatever the settings say.
 */
export function scopesFromEnv(own: { brokers?: string[]; registryUrl?: string } = {}, env?: NodeJS.ProcessEnv): Scopes {
  const policy = withPlatformEndpoints(scopePolicyFromEnv(env), [
    ...endpointsOf(own.brokers?.join(','), 'Kafka broker'),
    ...endpointsOf(own.registryUrl, 'schema registry'),
  ]);
  return new Scopes(policy);
}

/** The development policy with explicit roots: what tests and the local demo run under. */
export function devScopes(o: DevScopesOptions = {}): Scopes {
  const policy: ScopePolicy = {
    mode: 'development',
    secretsRoot: o.secretsRoot ?? null,
    filesRoot: o.filesRoot ?? null,
    envSecrets: true,
    allowRanges: ['loopback', 'private'],
    tenantAllow: {},
    platformEndpoints: o.platformEndpoints ?? [],
  };
  const scopes = new Scopes(policy, o.lookup);
  for (const [scheme, store] of Object.entries(o.stores ?? {})) scopes.register(scheme, store);
  return scopes;
}
