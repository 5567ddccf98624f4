import { resolve } from 'node:path';
import { PreflightError } from '@preflight/core';

/**
 * The rules that confine everything the platform resolves or reaches on a tenant's behalf. One
 * object, built once per process from settings, handed to every `TenantScope`; connectors never
 * see it, they only get the scoped capabilities a `TenantScope` gives them.
 */
export interface ScopePolicy {
  mode: 'development' | 'production';
  /** `file:` secret refs resolve under `<secretsRoot>/<tenant>/`; null: the `file:` store is off. */
  secretsRoot: string | null;
  /** `files` connector paths resolve under `<filesRoot>/<tenant>/`; null: local files are off. */
  filesRoot: string | null;
  /** `env:NAME` resolves only names in the tenant's namespace `TENANT_<tenant>__…` (see `envNamespace`); off by default in production. */
  envSecrets: boolean;
  /** Address classes a source may have besides public unicast ones. */
  allowRanges: AddressClass[];
  /** Per tenant: host names or CIDRs allowed even when their class is not. */
  tenantAllow: Record<string, string[]>;
  /** The platform's own endpoints: never reachable through a connector, whatever else allows. */
  platformEndpoints: PlatformEndpoint[];
}

/** Address classes a policy can open; `public` is always open, platform endpoints never are. */
export const ADDRESS_CLASSES = ['loopback', 'private', 'link-local'] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

export interface PlatformEndpoint {
  host: string;
  port: number;
  /** What it is, for the refusal message: "Kafka broker", "schema registry", "API". */
  what: string;
}

/**
 * Tenant ids are the API's names (letters, digits, `.`, `_`, `-`; starting with a letter or digit).
 * A tenant id that arrives straight from Kafka is checked again here: it becomes a directory name.
 */
export const TENANT_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export function checkTenantId(tenantId: string): string {
  if (!TENANT_ID.test(tenantId)) {
    throw new PreflightError('CONFIG', `tenantId "${tenantId.slice(0, 70)}" is not a valid tenant id (letters, digits, . _ -; at most 63)`, {
      retriable: false,
      issues: [{ field: 'tenantId', message: 'is not a valid tenant id', value: tenantId.slice(0, 70) }],
    });
  }
  return tenantId;
}

/**
 * The prefix of a tenant's environment variables. Characters other than letters and digits are
 * written `_XX` (hex), so two tenants never share a prefix and no prefix is the start of another
 * (an encoded id never contains `__`, which ends the prefix): `acme` → `TENANT_acme__`,
 * `tenant-e2e` → `TENANT_tenant_2De2e__`.
 */
export function envNamespace(tenantId: string): string {
  const enc = checkTenantId(tenantId).replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `TENANT_${enc}__`;
}

/** `host:port` pairs and URLs as the platform's settings write them. */
export function endpointsOf(value: string | undefined, what: string): PlatformEndpoint[] {
  if (!value) return [];
  const out: PlatformEndpoint[] = [];
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(item)) {
        const u = new URL(item);
        const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : NaN;
        if (Number.isInteger(port)) out.push({ host: u.hostname.replace(/^\[|\]$/g, ''), port, what });
        continue;
      }
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(item);
      if (m) out.push({ host: m[1]!, port: Number(m[2]), what });
    } catch {
      /* a malformed setting is reported by the setting's own reader */
    }
  }
  return out;
}

/** Adds endpoints a process knows of itself (its bus, its registry, its API), without duplicates. */
export function withPlatformEndpoints(policy: ScopePolicy, endpoints: PlatformEndpoint[]): ScopePolicy {
  const key = (e: PlatformEndpoint): string => `${e.host.toLowerCase()}:${e.port}`;
  const seen = new Set(policy.platformEndpoints.map(key));
  const added = endpoints.filter((e) => !seen.has(key(e)) && seen.add(key(e)));
  return added.length ? { ...policy, platformEndpoints: [...policy.platformEndpoints, ...added] } : policy;
}

function parseTenantAllow(value: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of (value ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new PreflightError('CONFIG', `PREFLIGHT_EGRESS_TENANT_ALLOW: "${part}" must be tenant=host-or-cidr,…`, { retriable: false });
    out[part.slice(0, i).trim()] = part.slice(i + 1).split(',').map((s) => s.trim()).filter(Boolean);
  }
  return out;
}

/**
 * The policy from the environment. Development (the default) keeps the demo and the tests working
 * on 127.0.0.1: loopback and private sources allowed, `env:` secrets on, roots under `.data/`.
 * Production refuses every non-public address unless a tenant's allowlist names it, turns `env:`
 * off, and has no file roots unless they are configured.
 */
export function scopePolicyFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ScopePolicy {
  const modeRaw = env['PREFLIGHT_ENV'] ?? 'development';
  if (modeRaw !== 'development' && modeRaw !== 'production') throw new PreflightError('CONFIG', `PREFLIGHT_ENV: must be development or production, not "${modeRaw}"`, { retriable: false });
  const mode = modeRaw;
  const dev = mode === 'development';
  const dir = (name: string, devDefault: string): string | null => {
    const v = env[name];
    if (v) return resolve(cwd, v);
    return dev ? resolve(cwd, devDefault) : null;
  };
  const ranges = env['PREFLIGHT_EGRESS_ALLOW_RANGES'];
  const allowRanges = (ranges === undefined ? (dev ? 'loopback,private' : '') : ranges).split(',').map((s) => s.trim()).filter(Boolean);
  for (const r of allowRanges) {
    if (!(ADDRESS_CLASSES as readonly string[]).includes(r)) throw new PreflightError('CONFIG', `PREFLIGHT_EGRESS_ALLOW_RANGES: "${r}" is not one of ${ADDRESS_CLASSES.join(', ')}`, { retriable: false });
  }
  const envSecrets = env['PREFLIGHT_ENV_SECRETS'];
  if (envSecrets !== undefined && envSecrets !== 'on' && envSecrets !== 'off') throw new PreflightError('CONFIG', `PREFLIGHT_ENV_SECRETS: must be on or off, not "${envSecrets}"`, { retriable: false });
  return {
    mode,
    secretsRoot: dir('PREFLIGHT_SECRETS_DIR', '.data/secrets'),
    filesRoot: dir('PREFLIGHT_FILES_ROOT', '.data/files'),
    envSecrets: envSecrets === undefined ? dev : envSecrets === 'on',
    allowRanges: allowRanges as AddressClass[],
    tenantAllow: parseTenantAllow(env['PREFLIGHT_EGRESS_TENANT_ALLOW']),
    platformEndpoints: [
      ...endpointsOf(env['KAFKA_BROKERS'], 'Kafka broker'),
      ...endpointsOf(env['SCHEMA_REGISTRY_URL'], 'schema registry'),
      ...endpointsOf(env['PREFLIGHT_API_URL'], 'API'),
      ...(env['API_PORT'] ? endpointsOf(`${env['API_HOST'] ?? '127.0.0.1'}:${env['API_PORT']}`, 'API') : []),
      ...endpointsOf(env['OTEL_EXPORTER_OTLP_ENDPOINT'], 'telemetry collector'),
      ...endpointsOf(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'], 'telemetry collector'),
      ...endpointsOf(env['INCIDENT_WEBHOOK_URL'], 'incident webhook'),
      ...endpointsOf(env['PREFLIGHT_PLATFORM_ENDPOINTS'], 'platform endpoint'),
    ],
  };
}
