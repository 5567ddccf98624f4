import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getConnector } from '../registry.js';
import { classify, checkEgress, type Lookup } from './egress.js';
import { devScopes } from './factory.js';
import { envNamespace, scopePolicyFromEnv, withPlatformEndpoints, type ScopePolicy } from './policy.js';

const dev = (over: Partial<ScopePolicy> = {}): ScopePolicy => ({ ...devScopes().policy, ...over });
const prod = (over: Partial<ScopePolicy> = {}): ScopePolicy => ({ ...scopePolicyFromEnv({ PREFLIGHT_ENV: 'production' }), ...over });
const fixedLookup =
  (table: Record<string, string[]>): Lookup =>
  async (host) => {
    const a = table[host];
    if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('tenant namespaces', () => {
  it('gives every tenant its own env prefix, none the start of another', () => {
    expect(envNamespace('acme')).toBe('TENANT_acme__');
    expect(envNamespace('tenant-e2e')).toBe('TENANT_tenant_2De2e__');
    const ids = ['a', 'a_', 'a-', 'a.b', 'a_b', 'a-b', 'ab', 'a__b', 'a_5F', 'A'];
    const prefixes = ids.map(envNamespace);
    expect(new Set(prefixes).size).toBe(ids.length);
    for (const p of prefixes) for (const q of prefixes) if (p !== q) expect(q.startsWith(p)).toBe(false);
  });

  it('refuses a tenant id that could name a directory outside the roots', () => {
    expect(() => devScopes().forTenant('../etc')).toThrow(/not a valid tenant id/);
    expect(() => devScopes().forTenant('')).toThrow(/not a valid tenant id/);
  });
});

describe('secret refs resolve only inside the tenant', () => {
  const root = mkdtempSync(join(tmpdir(), 'scope-secrets-'));
  mkdirSync(join(root, 'acme', 'db'), { recursive: true });
  mkdirSync(join(root, 'globex'), { recursive: true });
  writeFileSync(join(root, 'acme', 'db', 'pw'), 'acme-secret');
  writeFileSync(join(root, 'globex', 'pw'), 'globex-secret');
  symlinkSync('/etc/hostname', join(root, 'acme', 'escape'));
  symlinkSync(join(root, 'globex'), join(root, 'acme', 'neighbour'));
  const acme = devScopes({ secretsRoot: root }).forTenant('acme');

  it('reads a file ref relative to the tenant root, or absolute inside it', async () => {
    expect((await acme.secret('config.secretRef', 'file:db/pw')).value).toBe('acme-secret');
    expect((await acme.secret('config.secretRef', `file:${join(root, 'acme', 'db', 'pw')}`)).value).toBe('acme-secret');
  });

  it.each([
    ['file:/etc/hostname', /outside the tenant's secrets root/],
    ['file:../globex/pw', /must not contain "\.\."/],
    ['file:db/../../globex/pw', /must not contain "\.\."/],
    ['file:escape', /leaves the tenant's secrets root through a symbolic link/],
    ['file:neighbour/pw', /leaves the tenant's secrets root through a symbolic link/],
    [`file:${join(root, 'globex', 'pw')}`, /outside the tenant's secrets root/],
  ])('refuses %s before reading anything, naming the field', async (ref, why) => {
    const e = await acme.secret('config.auth.secretRef', ref).then(() => null, (x: unknown) => x as { code: string; message: string; issues: Array<{ field: string }> });
    expect(e).toMatchObject({ code: 'CONFIG', message: expect.stringMatching(why) });
    expect(e!.message).toMatch(/^config\.auth\.secretRef/);
    expect(e!.issues[0]!.field).toBe('config.auth.secretRef');
    expect(e!.message).not.toMatch(/globex-secret|acme-secret/);
    await expect(acme.checkSecretRef('config.auth.secretRef', ref)).rejects.toThrow(why);
  });

  it("resolves env: inside the tenant's namespace only: a platform variable is out of reach", async () => {
    process.env['TENANT_acme__PG'] = 'acme-pg';
    process.env['TENANT_globex__PG'] = 'globex-pg';
    expect((await acme.secret('config.secretRef', 'env:TENANT_acme__PG')).value).toBe('acme-pg');
    for (const ref of ['env:PATH', 'env:PREFLIGHT_JWT_SECRET', 'env:TENANT_globex__PG', 'env:TENANT_acme__']) {
      await expect(acme.secret('config.secretRef', ref)).rejects.toThrow(/outside tenant acme's namespace: env: refs name variables TENANT_acme__<NAME>/);
      await expect(acme.checkSecretRef('config.secretRef', ref)).rejects.toThrow(/outside tenant acme's namespace/);
    }
    await expect(acme.secret('config.secretRef', 'env:TENANT_acme__UNSET')).rejects.toThrow(/TENANT_acme__UNSET is not set/);
  });

  it('turns env: off in production and file: off without a configured root', async () => {
    const scope = devScopes().forTenant('acme');
    await expect(scope.secret('config.secretRef', 'file:pw')).rejects.toThrow(/no secrets root is configured \(PREFLIGHT_SECRETS_DIR\)/);
    const p = scopePolicyFromEnv({ PREFLIGHT_ENV: 'production', PREFLIGHT_SECRETS_DIR: root });
    expect(p.envSecrets).toBe(false);
    const { Scopes } = await import('./tenant-scope.js');
    const inProd = new Scopes(p).forTenant('acme');
    await expect(inProd.secret('config.secretRef', 'env:TENANT_acme__PG')).rejects.toThrow(/env:, which is off in production mode/);
    expect((await inProd.secret('config.secretRef', 'file:db/pw')).value).toBe('acme-secret');
  });
});

describe('egress policy', () => {
  const platform = withPlatformEndpoints(dev(), [
    { host: '127.0.0.1', port: 9092, what: 'Kafka broker' },
    { host: 'localhost', port: 8081, what: 'schema registry' },
  ]);

  it('classifies addresses, mapped IPv4 included', () => {
    expect(['127.0.0.1', '::1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', 'fe80::1', 'fd00::1', '0.0.0.0', '8.8.8.8', '::ffff:10.0.0.1', '224.0.0.1'].map(classify)).toEqual([
      'loopback', 'loopback', 'private', 'private', 'private', 'link-local', 'link-local', 'private', 'unspecified', 'public', 'private', 'multicast',
    ]);
  });

  it.each([
    ['127.0.0.1', 9092],
    ['localhost', 9092],
    ['127.0.0.2', 8081],
    ['::1', 8081],
    ['0.0.0.0', 9092],
  ])("refuses the platform's own endpoint %s:%i in any mode", async (host, port) => {
    await expect(checkEgress(platform, 'acme', 'config.host', host, port, fixedLookup({ localhost: ['127.0.0.1'] }))).rejects.toThrow(/refused by the egress policy: .*(platform's own|unspecified)/);
  });

  it('allows loopback and private sources in development, refuses link-local and unspecified', async () => {
    await expect(checkEgress(platform, 'acme', 'config.host', '127.0.0.1', 5432)).resolves.toMatchObject({ address: '127.0.0.1', port: 5432 });
    await expect(checkEgress(platform, 'acme', 'config.host', '10.0.0.7', 5432)).resolves.toMatchObject({ address: '10.0.0.7' });
    await expect(checkEgress(platform, 'acme', 'config.baseUrl', '169.254.169.254', 80)).rejects.toThrow(/config\.baseUrl: 169\.254\.169\.254:80 is refused .* link-local/);
  });

  it('refuses every non-public address in production unless the tenant allowlists it', async () => {
    const p = prod({ tenantAllow: { acme: ['10.20.0.0/16', 'db.acme.internal'] } });
    await expect(checkEgress(p, 'acme', 'config.host', '127.0.0.1', 5432)).rejects.toThrow(/loopback address, and production mode allows no non-public ranges/);
    await expect(checkEgress(p, 'acme', 'config.host', '10.20.3.4', 5432)).resolves.toMatchObject({ address: '10.20.3.4' });
    await expect(checkEgress(p, 'globex', 'config.host', '10.20.3.4', 5432)).rejects.toThrow(/private address/);
    const lookup = fixedLookup({ 'db.acme.internal': ['192.168.5.5'], 'api.example.com': ['93.184.216.34'] });
    await expect(checkEgress(p, 'acme', 'config.host', 'db.acme.internal', 5432, lookup)).resolves.toMatchObject({ address: '192.168.5.5', host: 'db.acme.internal' });
    await expect(checkEgress(p, 'acme', 'config.baseUrl', 'api.example.com', 443, lookup)).resolves.toMatchObject({ address: '93.184.216.34' });
  });

  it('checks every address a name resolves to and pins the connection to a checked one', async () => {
    const lookup = fixedLookup({ 'rebind.example': ['93.184.216.34', '169.254.169.254'], 'two.example': ['93.184.216.34', '93.184.216.35'] });
    await expect(checkEgress(prod(), 'acme', 'config.host', 'rebind.example', 443, lookup)).rejects.toThrow(/169\.254\.169\.254 is a link-local address/);
    await expect(checkEgress(prod(), 'acme', 'config.host', 'two.example', 443, lookup)).resolves.toMatchObject({ address: '93.184.216.34', family: 4 });
  });
});

describe('registration-time check', () => {
  it('reports every scope problem of a config at once, naming the fields', async () => {
    const files = mkdtempSync(join(tmpdir(), 'scope-files-'));
    const scopes = devScopes({ filesRoot: files, secretsRoot: files, platformEndpoints: [{ host: '127.0.0.1', port: 8081, what: 'schema registry' }] });
    const acme = scopes.forTenant('acme');
    const rest = getConnector('rest');
    const issues = await acme.check(rest.manifest, rest.parseConfig({ type: 'rest', baseUrl: 'http://127.0.0.1:8081', auth: { kind: 'bearer', secretRef: 'file:/etc/hostname' } }));
    expect(issues.map((i) => i.field)).toEqual(['config.auth.secretRef', 'config.baseUrl']);
    const f = getConnector('files');
    expect((await acme.check(f.manifest, f.parseConfig({ type: 'files', path: '/etc' })))[0]).toMatchObject({ field: 'config.path', message: expect.stringMatching(/outside the tenant's files root/) });
    expect(await acme.check(f.manifest, f.parseConfig({ type: 'files', path: 'exports/customers' }))).toEqual([]);
  });
});
