import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '@preflight/core';
import { freePort, startMariadb, startPostgres } from '@preflight/local-infra';
import { getConnector } from './index.js';
import { devScopes } from './scope/factory.js';
import { startErpApiFixture, startSilentPort } from './testing/erp-api.js';

/**
 * Drives every connector's failure paths with a known secret and scans everything written —
 * log lines, error messages, serialized errors, causes — for the secret's value.
 */
describe('secrets never leak', () => {
  it('through logs, errors or results of any connector failure path', async () => {
    const SECRET = 'S3cr3t-Valu3-that-must-not-leak';
    const lines: string[] = [];
    const logger = createLogger({ service: 'scan', level: 'debug', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    const scope = devScopes({ stores: { test: async () => ({ value: SECRET }) } }).forTenant('acme');
    const ctx = { scope, logger, timeoutMs: 500 };
    const pg = await startPostgres();
    const my = await startMariadb();
    const api = await startErpApiFixture({ token: 'the-real-token' });
    const silent = await startSilentPort();
    const closed = await freePort();
    const written: string[] = [];
    const attempt = async (type: string, raw: unknown, op: 'handshake' | 'discover' | 'auditAccess'): Promise<void> => {
      const m = getConnector(type);
      try {
        const cfg = m.parseConfig(raw);
        const r = op === 'handshake' ? await m.handshake(cfg, ctx) : op === 'discover' ? await m.discover(cfg, ctx) : await m.auditAccess(cfg, ctx, ['customers']);
        written.push(JSON.stringify(r));
      } catch (e) {
        logger.error({ err: e }, `operation failed: ${(e as Error).message}`);
        let cur: unknown = e;
        while (cur) {
          written.push(String((cur as Error).message), JSON.stringify(cur), String((cur as Error).stack));
          cur = (cur as { cause?: unknown }).cause;
        }
      }
    };
    try {
      for (const port of [pg.port, closed, silent.port]) {
        await attempt('postgres', { type: 'postgres', host: '127.0.0.1', port, database: 'postgres', user: 'postgres', secretRef: 'test:x' }, 'handshake');
        await attempt('mysql', { type: 'mysql', host: '127.0.0.1', port: port === pg.port ? my.port : port, database: 'mysql', user: 'admin', secretRef: 'test:x' }, 'handshake');
      }
      await attempt('rest', { type: 'rest', baseUrl: api.url, auth: { kind: 'bearer', secretRef: 'test:x' } }, 'handshake');
      await attempt('rest', { type: 'rest', baseUrl: api.url, auth: { kind: 'basic', username: 'u', secretRef: 'test:x' } }, 'discover');
      await attempt('rest', { type: 'rest', baseUrl: `http://127.0.0.1:${closed}`, auth: { kind: 'bearer', secretRef: 'test:x' } }, 'auditAccess');
      await attempt('postgres', { type: 'postgres', host: '127.0.0.1', port: pg.port, database: 'postgres', user: 'postgres', password: SECRET }, 'handshake');
      await attempt('rest', { type: 'rest', baseUrl: `http://u:${SECRET}@127.0.0.1:1`, auth: { kind: 'bearer', token: SECRET } }, 'handshake');
    } finally {
      await Promise.all([pg.stop(), my.stop(), api.close(), silent.close()]);
    }
    expect(written.length).toBeGreaterThan(20);
    expect(lines.length).toBeGreaterThan(5);
    const everything = [...written, ...lines].join('\n');
    expect(everything).toMatch(/AUTH|authentication failed/);
    expect(everything).toMatch(/CONNECTIVITY|ECONNREFUSED/);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(Buffer.from(`u:${SECRET}`).toString('base64'));
  });
});
