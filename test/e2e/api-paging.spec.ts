import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@preflight/testkit';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let p: TestPlatform;
let token: string;
beforeAll(async () => {
  p = await startTestPlatform({ pipeline: false });
  token = await p.token('platform_admin', 'acme');
  for (let i = 0; i < 7; i++) {
    const res = await fetch(`${p.url}/api/connectors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `page-${i}`, sourceType: 'files', config: { path: p.demoDir }, contract: p.contract('customers.odcs.yaml'), autoPreflight: false }),
    });
    expect(res.status).toBe(201);
  }
  await eventually('7 connectors projected', async () => (await get('/api/connectors')).body.total === 7);
}, 120_000);
afterAll(async () => p?.stop());

async function get(path: string): Promise<{ status: number; body: { connectors: Array<{ name: string }>; total: number; nextCursor: string | null; issues?: Array<{ field: string }> } }> {
  const res = await fetch(`${p.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as never };
}

describe('GET /api/connectors pages on the server', () => {
  it('walks every connector once, sorted, following nextCursor', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/api/connectors?limit=3&sort=name${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(7);
      expect(r.body.connectors.length).toBeLessThanOrEqual(3);
      names.push(...r.body.connectors.map((c) => c.name));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
    expect((await get('/api/connectors?limit=2&sort=name&order=desc')).body.connectors.map((c) => c.name)).toEqual(['page-6', 'page-5']);
  });

  it('refuses a bad page size or cursor with 400 naming the field', async () => {
    const big = await get('/api/connectors?limit=501');
    expect(big.status).toBe(400);
    expect(JSON.stringify(big.body)).toContain('limit');
    const bad = await get('/api/connectors?cursor=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.issues?.[0]?.field).toBe('cursor');
  });
});
