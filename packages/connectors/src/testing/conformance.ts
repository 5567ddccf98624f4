import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPreflightError, type ErrorCode } from '@preflight/core';
import type { ConnectorModule } from '../facade.js';
import type { TenantScope } from '../scope/tenant-scope.js';

/** What one connector brings to the shared acceptance suite; cases a source cannot have are left out. */
export interface ConformanceSetup {
  /** The tenant scope the connector runs in (a test store for credentials, a files root). */
  scope: TenantScope;
  good: unknown;
  /** A dataset that exists and the good credential may read. */
  dataset: string;
  wrongPassword?: unknown;
  closedPort?: unknown;
  /** Config pointing at a port that accepts TCP and never answers. */
  silent?: unknown;
  /** A credential lacking read access on `dataset`. */
  missingGrant?: unknown;
  /** A config whose source holds `count` tables, for the discovery-time check. */
  manyTables?: { config: unknown; count: number; maxMs: number };
  teardown(): Promise<void>;
}

async function code(p: Promise<unknown>): Promise<ErrorCode> {
  try {
    await p;
  } catch (e) {
    expect(isPreflightError(e)).toBe(true);
    return (e as { code: ErrorCode }).code;
  }
  throw new Error('expected the operation to fail');
}

/**
 * The connector acceptance suite every connector passes against a real instance of its source,
 * like Airbyte's connector acceptance tests: same cases, same expectations, for every module.
 */
export interface ConformanceCases {
  /** The source is reached over the network with a credential (not local files). */
  network: boolean;
  /** The source has per-dataset grants a credential can lack. */
  grants: boolean;
  /** The source can hold hundreds of tables. */
  manyTables: boolean;
}

/** The config with every address the manifest declares pointed at 127.0.0.1:`port`. */
function retarget(module: ConnectorModule, config: unknown, port: number): unknown {
  const out = structuredClone(config) as Record<string, unknown>;
  const set = (path: string, value: unknown): void => {
    const keys = path.split('.');
    const leaf = keys.pop()!;
    const parent = keys.reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, out);
    parent[leaf] = value;
  };
  const get = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], out);
  for (const e of module.manifest.contract.endpoints) {
    if ('url' in e) {
      const u = new URL(String(get(e.url)));
      u.hostname = '127.0.0.1';
      u.port = String(port);
      set(e.url, u.href.replace(/\/$/, ''));
    } else {
      set(e.host, '127.0.0.1');
      set(e.port, port);
    }
  }
  return out;
}

export function conformanceSuite(name: string, module: ConnectorModule, cases: ConformanceCases, setup: () => Promise<ConformanceSetup>): void {
  describe(`conformance: ${name}`, () => {
    let s: ConformanceSetup;
    beforeAll(async () => {
      s = await setup();
    }, 120_000);
    afterAll(async () => {
      await s?.teardown();
    });
    const ctx = (timeoutMs?: number) => ({ scope: s.scope, ...(timeoutMs ? { timeoutMs } : {}) });

    it('shakes hands: server version, latency, principal', async () => {
      const r = await module.handshake(module.parseConfig(s.good), ctx());
      expect(r.serverVersion.length).toBeGreaterThan(0);
      expect(r.latencyMs).toBeGreaterThanOrEqual(0);
      expect(r.attempts).toBe(1);
      expect(r.principal.length).toBeGreaterThan(0);
    });

    it('discovers the dataset with typed fields and samples it within the limit', async () => {
      const cfg = module.parseConfig(s.good);
      const d = await module.discover(cfg, ctx(), { datasets: [s.dataset] });
      const ds = d.datasets.find((x) => x.name === s.dataset.split('.').pop());
      expect(ds?.fields.length).toBeGreaterThan(0);
      expect(ds?.fields.every((f) => f.logicalType !== undefined && typeof f.nullable === 'boolean')).toBe(true);
      const sample = await module.sample(cfg, ctx(), s.dataset, 5);
      expect(sample.rows.length).toBeGreaterThan(0);
      expect(sample.rows.length).toBeLessThanOrEqual(5);
    });

    it('reports read access to the dataset in auditAccess', async () => {
      const facts = await module.auditAccess(module.parseConfig(s.good), ctx(), [s.dataset]);
      expect(facts.readable.some((r) => r.split('.').pop() === s.dataset.split('.').pop())).toBe(true);
    });

    if (cases.network) {
      it('fails a wrong password as AUTH, without retrying', async () => {
        expect(await code(module.handshake(module.parseConfig(s.wrongPassword), ctx()))).toBe('AUTH');
      });

      it('fails a closed port as CONNECTIVITY', async () => {
        expect(await code(module.handshake(module.parseConfig(s.closedPort), ctx(500)))).toBe('CONNECTIVITY');
      });

      it("refuses the platform's own endpoints and, in production, loopback, before any byte is sent", async () => {
        let connections = 0;
        const listener = createServer((sock) => {
          connections++;
          sock.destroy();
        });
        await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
        const port = (listener.address() as AddressInfo).port;
        try {
          const cfg = module.parseConfig(retarget(module, s.good, port));
          const platform = s.scope.withPolicy({ ...s.scope.policy, platformEndpoints: [{ host: 'localhost', port, what: 'API' }] });
          const production = s.scope.withPolicy({ ...s.scope.policy, mode: 'production', allowRanges: [] });
          for (const scope of [platform, production]) {
            for (const run of [() => module.handshake(cfg, { scope }), () => module.discover(cfg, { scope }), () => module.auditAccess(cfg, { scope }, [s.dataset])]) {
              const e = await run().then(() => null, (x: unknown) => x as { code?: string; message?: string });
              expect(e?.code).toBe('CONFIG');
              expect(e?.message).toMatch(/refused by the egress policy/);
            }
          }
          expect(connections).toBe(0);
        } finally {
          await new Promise<void>((r) => listener.close(() => r()));
        }
      });

      it('fails a port that accepts and never answers as TIMEOUT within the configured timeout', async () => {
        const timeoutMs = 600;
        const t0 = performance.now();
        expect(await code(module.handshake(module.parseConfig(s.silent), ctx(timeoutMs)))).toBe('TIMEOUT');
        const { attempts, maxBackoffMs } = module.manifest.retry;
        const bound = attempts * timeoutMs + (attempts - 1) * maxBackoffMs + 1_000;
        const elapsed = performance.now() - t0;
        console.log(`  ${name}: silent port failed as TIMEOUT after ${elapsed.toFixed(0)} ms (${attempts} attempts × ${timeoutMs} ms; bound ${bound} ms)`);
        expect(elapsed).toBeLessThan(bound);
      });
    }
    if (cases.grants) {
      it('a credential without the grant cannot read the dataset (PERMISSION, and auditAccess says so)', async () => {
        const cfg = module.parseConfig(s.missingGrant);
        const facts = await module.auditAccess(cfg, ctx(), [s.dataset]);
        expect(facts.readable.some((r) => r.split('.').pop() === s.dataset.split('.').pop())).toBe(false);
        expect(await code(module.sample(cfg, ctx(), s.dataset, 1))).toBe('PERMISSION');
      });
    }
    if (cases.manyTables) {
      it('discovers a source with 200+ tables in bounded time', async () => {
        const t0 = performance.now();
        const d = await module.discover(module.parseConfig(s.manyTables!.config), ctx());
        const ms = performance.now() - t0;
        console.log(`  ${name}: discovered ${d.datasets.length} tables in ${ms.toFixed(0)} ms`);
        expect(d.datasets.length).toBeGreaterThanOrEqual(s.manyTables!.count);
        expect(ms).toBeLessThan(s.manyTables!.maxMs);
      });
    }
  });
}
