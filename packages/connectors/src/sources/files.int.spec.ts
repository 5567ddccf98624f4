import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformanceSuite } from '../testing/conformance.js';
import { devScopes } from '../scope/factory.js';
import { filesConnector } from './files.js';

const root = mkdtempSync(join(tmpdir(), 'files-root-'));
const scope = devScopes({ filesRoot: root }).forTenant('acme');

function demoDir(): string {
  mkdirSync(join(root, 'acme'), { recursive: true });
  const dir = mkdtempSync(join(root, 'acme', 'files-'));
  writeFileSync(join(dir, 'customers.csv'), 'id,email,country,created_at,note\n1,a@x.io,DE,2026-01-01T10:00:00Z,"hello, ""world"""\n2,b@x.io,FR,2026-01-02T10:00:00Z,\n3,c@x.io,,2026-01-03T10:00:00Z,"multi\nline"\n');
  writeFileSync(join(dir, 'orders.jsonl'), '{"order_id":1,"amount":9.5,"paid":true,"placed_on":"2026-02-01"}\n{"order_id":2,"amount":12,"paid":false,"placed_on":"2026-02-02"}\n');
  writeFileSync(join(dir, 'README.txt'), 'not a dataset');
  return dir;
}

conformanceSuite('files', filesConnector, { network: false, grants: false, manyTables: false }, async () => ({
  scope,
  good: { type: 'files', path: demoDir() },
  dataset: 'customers',
  teardown: async () => undefined,
}));

describe('files specifics', () => {
  it('infers types and nullability from CSV and JSON Lines', async () => {
    const c = filesConnector.parseConfig({ type: 'files', path: demoDir() });
    const d = await filesConnector.discover(c, { scope });
    expect(d.datasets.map((x) => x.name)).toEqual(['customers', 'orders']);
    const types = (name: string) => Object.fromEntries(d.datasets.find((x) => x.name === name)!.fields.map((f) => [f.name, [f.logicalType, f.nullable]]));
    expect(types('customers')).toEqual({ id: ['integer', false], email: ['string', false], country: ['string', true], created_at: ['timestamp', false], note: ['string', true] });
    expect(types('orders')).toEqual({ order_id: ['integer', false], amount: ['number', false], paid: ['boolean', false], placed_on: ['date', false] });
    const s = await filesConnector.sample(c, { scope }, 'customers', 10);
    expect(s.rows[0]).toEqual({ id: 1, email: 'a@x.io', country: 'DE', created_at: '2026-01-01T10:00:00Z', note: 'hello, "world"' });
    expect(s.rows[2]!['note']).toBe('multi\nline');
  });

  it('a missing path is a CONFIG error naming config.path', async () => {
    const c = filesConnector.parseConfig({ type: 'files', path: '/nonexistent/dir' });
    await expect(filesConnector.handshake(c, { scope })).rejects.toMatchObject({ code: 'CONFIG', message: expect.stringMatching(/^config\.path/) });
  });
});

describe('files: one schema check reads each file once', () => {
  it('discovery and the sample of one operation context share one listing and one read; a new context reads the files again', async () => {
    const dir = demoDir();
    const c = filesConnector.parseConfig({ type: 'files', path: dir });
    let confined = 0;
    // The tenant scope's path check is where every listing and file goes through (a realpath each).
    const counting = Object.create(scope, { path: { value: (field: string, given: string) => (confined++, scope.path(field, given)) } }) as typeof scope;
    const check = { scope: counting };
    await filesConnector.discover(c, check);
    const afterDiscover = confined;
    expect(afterDiscover).toBeGreaterThan(0);
    // The file changes between discovery and the checkpoint's sample: the check still sees one version.
    writeFileSync(join(dir, 'customers.csv'), 'id,email\n99,z@x.io\n');
    const s = await filesConnector.sample(c, check, 'customers', 10);
    expect(confined).toBe(afterDiscover);
    expect(s.rows).toHaveLength(3);
    expect(s.rows[0]!['id']).toBe(1);
    // The next check (a new context) lists and reads again and sees the change.
    const next = await filesConnector.sample(c, { scope: counting }, 'customers', 10);
    expect(confined).toBeGreaterThan(afterDiscover);
    expect(next.rows).toEqual([{ id: 99, email: 'z@x.io' }]);
  });

  it('rows parsed once serve a smaller sample cut, and a larger sample than the first parse held is parsed again', async () => {
    mkdirSync(join(root, 'acme'), { recursive: true });
    const dir = mkdtempSync(join(root, 'acme', 'files-'));
    writeFileSync(join(dir, 'big.csv'), ['n', ...Array.from({ length: 1500 }, (_, i) => String(i))].join('\n'));
    writeFileSync(join(dir, 'small.jsonl'), Array.from({ length: 5 }, (_, i) => JSON.stringify(i === 4 ? { n: i, late: true } : { n: i })).join('\n'));
    const c = filesConnector.parseConfig({ type: 'files', path: dir });
    const ctx = { scope };
    await filesConnector.discover(c, ctx); // 1,000 rows of big (truncated), all 5 of small
    const big = await filesConnector.sample(c, ctx, 'big', 10_000);
    expect(big.rows).toHaveLength(1500);
    expect(big.truncated).toBe(false);
    const cut = await filesConnector.sample(c, ctx, 'small', 2);
    expect(cut).toMatchObject({ rows: [{ n: 0 }, { n: 1 }], truncated: true });
    const all = await filesConnector.sample(c, ctx, 'small', 10);
    expect(all.rows).toHaveLength(5);
    expect(all.rows[4]).toEqual({ n: 4, late: true });
  });

  it('a read that failed is not kept: the same context reads again once the file is there', async () => {
    mkdirSync(join(root, 'acme'), { recursive: true });
    const dir = mkdtempSync(join(root, 'acme', 'files-'));
    const c = filesConnector.parseConfig({ type: 'files', path: join(dir, 'later.csv') });
    const ctx = { scope };
    await expect(filesConnector.discover(c, ctx)).rejects.toMatchObject({ code: 'CONFIG' });
    writeFileSync(join(dir, 'later.csv'), 'a\n1\n');
    const d = await filesConnector.discover(c, ctx);
    expect(d.datasets.map((x) => x.name)).toEqual(['later']);
  });
});
