import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PreflightError, type FieldIssue } from '@preflight/core';
import { configValue } from '../config-path.js';
import type { ConnectorManifest, SecretResolution } from '../facade.js';
import { confine, realpathOf } from './confine.js';
import { checkEgress, systemLookup, type CheckedAddress, type Lookup } from './egress.js';
import { checkTenantId, envNamespace, type ScopePolicy } from './policy.js';

/**
 * A secret store keyed by tenant: gets the name after `scheme:` and the tenant it is resolved for,
 * and must look only inside that tenant's part of the store (a vault path `tenants/<tenant>/…`).
 */
export type SecretStore = (name: string, tenantId: string, signal?: AbortSignal) => Promise<{ value: string; rotatedAt?: string; ageDays?: number }>;

const DAY = 24 * 60 * 60 * 1000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function scopeError(field: string, ref: string, message: string): PreflightError {
  return new PreflightError('CONFIG', `${field}: secretRef ${ref.slice(0, 120)} ${message}`, {
    retriable: false,
    details: { rule: 'secret-scope', field },
    issues: [{ field, message, value: ref.slice(0, 120) }],
  });
}

/** True when an error is a scope refusal (secret namespace, file confinement, egress), not a source failure. */
export function isScopeRefusal(e: unknown): e is PreflightError {
  return e instanceof PreflightError && ['secret-scope', 'confinement', 'egress'].includes(String(e.details['rule']));
}

/**
 * Everything a connector may resolve or reach for one tenant: its secrets, its files, its network
 * addresses. Connectors get nothing else, so a connector cannot resolve outside the tenant even by
 * mistake; every check runs before any I/O towards the source.
 */
export class TenantScope {
  readonly tenantId: string;
  /** The files root's real path, looked up once per scope: a scope is made per operation (`Scopes.forTenant`). */
  private filesRootReal: Promise<string> | undefined;

  constructor(
    readonly policy: ScopePolicy,
    tenantId: string,
    private readonly stores: ReadonlyMap<string, SecretStore> = new Map(),
    private readonly lookup: Lookup = systemLookup,
  ) {
    this.tenantId = checkTenantId(tenantId);
  }

  /** The same tenant and stores under another policy (tests of a stricter mode). */
  withPolicy(policy: ScopePolicy): TenantScope {
    return new TenantScope(policy, this.tenantId, this.stores, this.lookup);
  }

  private split(field: string, ref: string): { scheme: string; name: string } {
    const i = ref.indexOf(':');
    const scheme = i > 0 ? ref.slice(0, i) : '';
    const name = ref.slice(i + 1);
    const known = ['env', 'file', ...this.stores.keys()];
    if (!known.includes(scheme) || !name) throw scopeError(field, ref, `has no known secret store; use ${known.map((s) => `${s}:`).join(', ')}`);
    return { scheme, name };
  }

  private envName(field: string, ref: string, name: string): string {
    if (!this.policy.envSecrets) throw scopeError(field, ref, `uses env:, which is off in ${this.policy.mode} mode (PREFLIGHT_ENV_SECRETS); use file: under the tenant's secrets root`);
    if (!ENV_NAME.test(name)) throw scopeError(field, ref, 'must name an environment variable (letters, digits, _)');
    const prefix = envNamespace(this.tenantId);
    if (!name.startsWith(prefix) || name.length === prefix.length) throw scopeError(field, ref, `is outside tenant ${this.tenantId}'s namespace: env: refs name variables ${prefix}<NAME>`);
    return name;
  }

  private secretFile(field: string, name: string): Promise<string> {
    if (!this.policy.secretsRoot) throw scopeError(field, `file:${name}`, 'uses file:, but no secrets root is configured (PREFLIGHT_SECRETS_DIR)');
    return confine(join(this.policy.secretsRoot, this.tenantId), field, name, 'secrets');
  }

  /** Checks a secret reference without reading the secret: the registration-time half of resolution. */
  async checkSecretRef(field: string, ref: string): Promise<void> {
    const { scheme, name } = this.split(field, ref);
    if (scheme === 'env') this.envName(field, ref, name);
    else if (scheme === 'file') await this.secretFile(field, name);
  }

  /** Resolves a secret inside the tenant's namespace; the value never leaves the returned object. */
  async secret(field: string, ref: string, signal?: AbortSignal): Promise<SecretResolution> {
    const { scheme, name } = this.split(field, ref);
    if (scheme === 'env') {
      const variable = this.envName(field, ref, name);
      const value = process.env[variable];
      if (value === undefined || value === '') throw new PreflightError('CONFIG', `${field}: secretRef ${ref}: environment variable ${variable} is not set`, { retriable: false });
      return { value, ref, scheme };
    }
    if (scheme === 'file') {
      const path = await this.secretFile(field, name);
      try {
        const [value, st] = await Promise.all([readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) }), stat(path)]);
        return { value: value.replace(/\r?\n$/, ''), ref, scheme, rotatedAt: st.mtime.toISOString(), ageDays: (Date.now() - st.mtimeMs) / DAY };
      } catch (e) {
        throw new PreflightError('CONFIG', `${field}: secretRef ${ref}: cannot read the secret file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e, retriable: false });
      }
    }
    const r = await this.stores.get(scheme)!(name, this.tenantId, signal);
    return { ...r, ref, scheme };
  }

  /** Checks a source address against the egress policy; connect to the returned address only. */
  address(field: string, host: string, port: number): Promise<CheckedAddress> {
    return checkEgress(this.policy, this.tenantId, field, host, port, this.lookup);
  }

  /** A `files` path confined to the tenant's files root, as the real path to open. */
  path(field: string, given: string): Promise<string> {
    if (!this.policy.filesRoot) throw new PreflightError('CONFIG', `${field}: local files are off: no files root is configured (PREFLIGHT_FILES_ROOT)`, { retriable: false, details: { rule: 'confinement', field }, issues: [{ field, message: 'local files are off (no PREFLIGHT_FILES_ROOT)' }] });
    const root = join(this.policy.filesRoot, this.tenantId);
    // A scope lives for one operation, whose listing confines the root and each file in it: the
    // root's real path is looked up once (each lookup is a trip through libuv's thread pool).
    // A failed lookup is not kept.
    if (!this.filesRootReal) {
      const p = realpathOf(root);
      this.filesRootReal = p;
      p.catch(() => {
        if (this.filesRootReal === p) this.filesRootReal = undefined;
      });
    }
    return confine(root, field, given, 'files', this.filesRootReal);
  }

  /**
   * Every field the manifest declares as a secret, an address or a path, checked as resolution
   * would check it, without reading a secret or opening a connection: what registration refuses.
   */
  async check(manifest: ConnectorManifest, config: unknown): Promise<FieldIssue[]> {
    const issues: FieldIssue[] = [];
    const collect = async (run: () => Promise<unknown>): Promise<void> => {
      try {
        await run();
      } catch (e) {
        // A name that does not resolve from here may resolve where the handshake runs.
        if (isScopeRefusal(e) || (e instanceof PreflightError && e.code === 'CONFIG')) issues.push(...(e.issues.length ? e.issues : [{ field: 'config', message: e.message }]));
      }
    };
    for (const path of manifest.contract.secretFields) {
      const ref = configValue(config, path);
      if (typeof ref === 'string') await collect(() => this.checkSecretRef(`config.${path}`, ref));
    }
    for (const e of manifest.contract.endpoints ?? []) {
      const t = endpointOf(e, config);
      if (t) await collect(() => this.address(t.field, t.host, t.port));
    }
    for (const path of manifest.contract.paths ?? []) {
      const p = configValue(config, path);
      if (typeof p === 'string') await collect(() => this.path(`config.${path}`, p));
    }
    return issues;
  }
}

/** Where a manifest says a config keeps a network address: host + port fields, or one URL field. */
export type EndpointField = { host: string; port: string; defaultPort: number } | { url: string };

export function endpointOf(e: EndpointField, config: unknown): { field: string; host: string; port: number } | null {
  if ('url' in e) {
    const raw = configValue(config, e.url);
    if (typeof raw !== 'string') return null;
    try {
      const u = new URL(raw);
      return { field: `config.${e.url}`, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
    } catch {
      return null;
    }
  }
  const host = configValue(config, e.host);
  const port = configValue(config, e.port) ?? e.defaultPort;
  return typeof host === 'string' && typeof port === 'number' ? { field: `config.${e.host}`, host, port } : null;
}

/** One policy for the process; a `TenantScope` per tenant on demand. */
export class Scopes {
  private readonly stores = new Map<string, SecretStore>();

  constructor(
    readonly policy: ScopePolicy,
    private readonly lookup: Lookup = systemLookup,
  ) {}

  /** Plugs in a tenant-keyed secret store (vault-style) under `scheme:`. */
  register(scheme: string, store: SecretStore): this {
    if (scheme === 'env' || scheme === 'file') throw new PreflightError('CONFIG', `secret store "${scheme}:" is built in`, { retriable: false });
    this.stores.set(scheme, store);
    return this;
  }

  forTenant(tenantId: string): TenantScope {
    return new TenantScope(this.policy, tenantId, this.stores, this.lookup);
  }
}
