import { describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PreflightError } from '@preflight/core';
import { freePort } from '@preflight/local-infra';
import { conformanceSuite } from '../testing/conformance.js';
import { startErpApiFixture } from '../testing/erp-api.js';
import { devScopes } from '../scope/factory.js';
import { restConnector } from './rest.js';

const secrets = new Map<string, string>([['token', 'tok-7f3a9c2e1b'], ['wrong', 'tok-wrong']]);
const scope = devScopes({ stores: { test: async (name) => ({ value: secrets.get(name) ?? '' }) } }).forTenant('acme');
const cfg = (url: string, ref = 'test:token', extra: Record<string, unknown> = {}) => ({ type: 'rest', baseUrl: url, auth: { kind: 'bearer', secretRef: ref }, tokenInfoPath: '/auth/tokeninfo', pageSize: 25, ...extra });

conformanceSuite('rest', restConnector, { network: true, grants: true, manyTables: false }, async () => {
  const api = await startErpApiFixture({ token: secrets.get('token') });
  const narrow = await startErpApiFixture({ token: secrets.get('token'), scopes: ['orders:read'] });
  const silent = await startErpApiFixture({ token: secrets.get('token'), silent: true });
  return {
    scope,
    good: cfg(api.url),
    dataset: 'customers',
    wrongPassword: cfg(api.url, 'test:wrong'),
    closedPort: cfg(`http://127.0.0.1:${await freePort()}`),
    silent: cfg(silent.url),
    missingGrant: cfg(narrow.url),
    teardown: async () => {
      await Promise.all([api.close(), narrow.close(), silent.close()]);
    },
  };
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('rest specifics', () => {
  it('follows a redirect within the origin, and refuses one to another origin before the credential goes there', async () => {
    const elsewhere = await listen((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const origin = await listen((req, res) => {
      if (req.url === '/health') res.writeHead(302, { location: '/healthz' }).end();
      else if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"9.1"}');
      else res.writeHead(307, { location: `${elsewhere.url}/steal` }).end();
    });
    try {
      const ok = await restConnector.handshake(restConnector.parseConfig(cfg(origin.url)), { scope });
      expect(ok.serverVersion).toBe('9.1');
      expect(origin.seen.map((r) => r.url)).toEqual(['/health', '/healthz']);
      const e = await restConnector.handshake(restConnector.parseConfig(cfg(origin.url, 'test:token', { healthPath: '/moved' })), { scope }).then(() => null, (x: unknown) => x as PreflightError);
      expect(e?.code).toBe('CONFIG');
      expect(e?.message).toMatch(/^config\.baseUrl: GET \/moved redirects to another origin \(http:\/\/127\.0\.0\.1:\d+\); not followed/);
      expect(elsewhere.seen).toHaveLength(0);
    } finally {
      await Promise.all([origin.server, elsewhere.server].map((s) => new Promise((r) => s.close(r))));
    }
  });

  it('discovers datasets from OpenAPI, pages through samples, reads token scopes, and supports basic auth', async () => {
    const api = await startErpApiFixture({ basic: { username: 'svc', password: 'basic-secret-99' }, scopes: ['customers:read', 'orders:read', 'orders:write'] });
    secrets.set('basic', 'basic-secret-99');
    try {
      const c = restConnector.parseConfig(cfg(api.url, 'test:basic', { auth: { kind: 'basic', username: 'svc', secretRef: 'test:basic' } }));
      const ctx = { scope };
      const d = await restConnector.discover(c, ctx);
      expect(d.datasets.map((x) => x.name).sort()).toEqual(['customers', 'orders']);
      const customers = d.datasets.find((x) => x.name === 'customers')!;
      expect(customers.fields.find((f) => f.name === 'created_at')).toMatchObject({ logicalType: 'timestamp', nullable: true });
      expect(customers.fields.find((f) => f.name === 'email')).toMatchObject({ logicalType: 'string', nullable: false });
      expect(d.datasets.find((x) => x.name === 'orders')!.primaryKey).toEqual(['order_id']);
      const s = await restConnector.sample(c, ctx, 'customers', 60);
      expect(s.rows).toHaveLength(60);
      expect(s.truncated).toBe(true);
      expect(api.requests.filter((r) => r.startsWith('GET /customers?')).length).toBe(3);
      const facts = await restConnector.auditAccess(c, ctx, ['customers', 'orders']);
      expect(facts).toMatchObject({ principal: 'svc', tokenScopes: ['customers:read', 'orders:read', 'orders:write'], readable: ['customers', 'orders'] });
    } finally {
      await api.close();
    }
  });

  it('fails an expired bearer token as AUTH that says so, without retrying and without the token', async () => {
    secrets.set('expired', 'tok-expired-5d1e');
    const api = await startErpApiFixture({ token: secrets.get('token'), expiredTokens: ['tok-expired-5d1e'] });
    try {
      const err = await restConnector.handshake(restConnector.parseConfig(cfg(api.url, 'test:expired')), { scope }).then(
        () => undefined,
        (e: unknown) => e as PreflightError,
      );
      expect(err).toBeInstanceOf(PreflightError);
      expect(err).toMatchObject({ code: 'AUTH', retriable: false, details: { authError: 'invalid_token', tokenExpired: true } });
      expect(err!.message).toMatch(/invalid_token \(The access token expired\); renew the token behind test:expired/);
      expect(JSON.stringify(err!.toJSON())).not.toContain('tok-expired-5d1e');
      expect(api.requests.filter((r) => r.startsWith('GET /health'))).toHaveLength(1);
    } finally {
      await api.close();
    }
  });

  it('rejects credentials in the URL and a missing username for basic auth, all at once', () => {
    expect(() => restConnector.parseConfig({ type: 'rest', baseUrl: 'http://u:p@h', auth: { kind: 'basic', secretRef: 'env:X' } })).toThrow(/config\.baseUrl: must not carry credentials.*config\.auth\.username: is required/);
  });
});
