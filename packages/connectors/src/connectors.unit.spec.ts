import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPreflightError } from '@preflight/core';
import { auditFields, devScopes, getConnector, listConnectors, parseCsv, validateManifest } from './index.js';
import { datasetsFromOpenApi } from './sources/rest.js';
import { inferType } from './sources/files.js';
import { parseGrant } from './sources/mysql.js';

describe('manifests', () => {
  it.each(listConnectors().map((m) => [m.manifest.type, m] as const))('%s declares every part of the facade standard', (_type, m) => {
    expect(validateManifest(m.manifest)).toEqual([]);
  });

  it('a manifest missing parts fails, naming them', () => {
    const { retry: _r, rollback: _b, ...partial } = getConnector('postgres').manifest;
    expect(validateManifest(partial)).toEqual(['retry policy', 'rollback notes']);
    expect(validateManifest({ ...getConnector('postgres').manifest, observability: { spans: ['x'], metrics: ['made_up_metric' as never] } })).toEqual(['observability: metric made_up_metric is not in the semantic catalogue']);
  });

  it('an unknown source type is a CONFIG error naming the field', () => {
    expect(() => getConnector('oracle')).toThrow(/^type: unknown source type "oracle"/);
  });

  it('audit fields follow the mapping and never carry the secret reference', () => {
    const pg = getConnector('postgres');
    const cfg = pg.parseConfig({ type: 'postgres', host: 'db', database: 'erp', user: 'reader', secretRef: 'env:PW' });
    expect(auditFields(pg, cfg)).toEqual({ 'connector.type': 'postgres', 'connector.version': '1.0.0', 'source.host': 'db', 'source.port': '5432', 'source.database': 'erp', 'source.user': 'reader', 'source.schema': 'public', 'source.tls.mode': 'prefer' });
  });
});

describe('config validation', () => {
  it('rejects plaintext secrets anywhere, naming the field and hiding the value', () => {
    try {
      getConnector('rest').parseConfig({ type: 'rest', baseUrl: 'https://erp.example', auth: { kind: 'bearer', token: 'abc123secret' } });
      expect.unreachable();
    } catch (e) {
      expect(isPreflightError(e)).toBe(true);
      const issues = (e as { issues: Array<{ field: string; value?: unknown }> }).issues;
      expect(issues.map((i) => i.field)).toEqual(['config.auth.token', 'config.auth.secretRef']);
      expect(JSON.stringify(e)).not.toContain('abc123secret');
      expect((e as Error).message).not.toContain('abc123secret');
    }
  });

  it('reports every bad field at once', () => {
    expect(() => getConnector('postgres').parseConfig({ type: 'postgres', port: 99999, password: 'x', tls: { mode: 'sometimes' } })).toThrow(
      /config\.password: plaintext.*config\.host: is required.*config\.port: must be a port.*config\.database: is required.*config\.user: is required.*config\.secretRef: is required.*config\.tls\.mode: must be one of/,
    );
  });

  it('rejects a secretRef that is not a reference', () => {
    expect(() => getConnector('mysql').parseConfig({ type: 'mysql', host: 'h', database: 'd', user: 'u', secretRef: 'hunter2' })).toThrow(/config\.secretRef: must be a secret reference/);
  });
});

describe('secrets', () => {
  const root = mkdtempSync(join(tmpdir(), 'sec-'));
  const scope = devScopes({ secretsRoot: root }).forTenant('acme');
  it('resolves env: and file: references in the tenant namespace, with the file age as rotation age', async () => {
    process.env['TENANT_acme__UNIT_SECRET_X'] = 'from-env';
    expect(await scope.secret('config.secretRef', 'env:TENANT_acme__UNIT_SECRET_X')).toMatchObject({ value: 'from-env', scheme: 'env' });
    mkdirSync(join(root, 'acme'));
    const f = join(root, 'acme', 'pw');
    writeFileSync(f, 'from-file\n');
    const old = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(f, old, old);
    const r = await scope.secret('config.secretRef', 'file:pw');
    expect(r.value).toBe('from-file');
    expect(r.ageDays).toBeGreaterThan(9.9);
  });

  it('fails clearly on unknown schemes, unset variables and missing files, without echoing values', async () => {
    await expect(scope.secret('config.secretRef', 'plain:hunter2')).rejects.toThrow(/has no known secret store/);
    await expect(scope.secret('config.secretRef', 'env:TENANT_acme__UNIT_SECRET_UNSET')).rejects.toThrow(/TENANT_acme__UNIT_SECRET_UNSET is not set/);
    await expect(scope.secret('config.secretRef', 'file:nope/pw')).rejects.toThrow(/cannot read the secret file \(ENOENT\)/);
  });

  it('takes a vault-style store, keyed by tenant, without touching connectors', async () => {
    const s = devScopes({ stores: { vault: async (path, tenant) => ({ value: `v:${tenant}/${path}`, ageDays: 1 }) } }).forTenant('acme');
    expect(await s.secret('config.secretRef', 'vault:kv/erp#password')).toMatchObject({ value: 'v:acme/kv/erp#password', scheme: 'vault' });
  });
});

describe('parsers', () => {
  it('CSV per RFC 4180', () => {
    expect(parseCsv('a,b\r\n1,"x, ""y"""\r\n2,"multi\nline"\r\n')).toEqual({ header: ['a', 'b'], rows: [['1', 'x, "y"'], ['2', 'multi\nline']], truncated: false });
  });

  it('infers types from a sample', () => {
    expect(inferType(['1', '2', null])).toBe('integer');
    expect(inferType(['1.5', '2'])).toBe('number');
    expect(inferType(['2026-01-01', '2026-01-02T10:00:00Z'])).toBe('timestamp');
    expect(inferType(['2026-01-01'])).toBe('date');
    expect(inferType(['true', 'false'])).toBe('boolean');
    expect(inferType(['x', '1'])).toBe('string');
  });

  it('SHOW GRANTS lines', () => {
    expect(parseGrant('GRANT SELECT, INSERT ON `erp`.`orders` TO `app`@`%`')).toEqual({ privileges: ['SELECT', 'INSERT'], on: 'erp.orders', withGrant: false });
    expect(parseGrant('GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION')).toEqual({ privileges: ['ALL PRIVILEGES'], on: '*.*', withGrant: true });
  });

  it('OpenAPI list endpoints become datasets', () => {
    const d = datasetsFromOpenApi({ paths: { '/things': { get: { responses: { '200': { content: { 'application/json': { schema: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } } } } } } } } } } } });
    expect(d).toEqual([{ name: 'things', kind: 'endpoint', primaryKey: ['id'], fields: [{ name: 'id', logicalType: 'integer', physicalType: 'integer', nullable: false, primaryKey: true }, { name: 'at', logicalType: 'timestamp', physicalType: 'string:date-time', nullable: true, primaryKey: false }] }]);
  });
});
