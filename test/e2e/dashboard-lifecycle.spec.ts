import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchChromium } from '@preflight/testkit';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const shots = fileURLToPath(new URL('../../test-results/', import.meta.url));
let p: TestPlatform;
let browser: Browser;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const token = await p.token('platform_admin', 'acme');
  const res = await fetch(`${p.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: await res.json() };
}

const statusOf = async (id: string): Promise<string> => (await call('GET', `/api/connectors/${id}`)).body.status as string;

beforeAll(async () => {
  p = await startTestPlatform();
  for (const name of ['kept', 'changed', 'gone']) expect((await call('POST', '/api/connectors', { name, sourceType: 'files', config: { path: p.demoDir }, contract: p.contract('customers.odcs.yaml'), autoPreflight: true })).status).toBe(201);
  await eventually('all READY', async () => (await Promise.all(['kept', 'changed', 'gone'].map((n) => statusOf(`acme.${n}`)))).every((s) => s === 'READY'), { timeoutMs: 90_000 });
  // A tightened quality rule the source does not meet: the changed connector preflights again and fails.
  expect((await call('PATCH', '/api/connectors/acme.changed', { contract: p.contract('customers.odcs.yaml').replace('validValues: [DE, FR, NL, US]', 'validValues: [DE]'), reason: 'only German customers' })).status).toBe(202);
  expect((await call('DELETE', '/api/connectors/acme.gone?reason=source%20decommissioned')).status).toBe(202);
  await eventually('changed FAILED, gone RETIRED', async () => (await statusOf('acme.changed')) === 'FAILED' && (await statusOf('acme.gone')) === 'RETIRED', { timeoutMs: 90_000 });
  browser = await launchChromium(chromium);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

describe('dashboard: lifecycle and release readiness in Chromium', () => {
  it('shows the release-readiness matrix, a connector\'s classified changelog and a retired connector', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
    await page.goto(p.url);
    await page.fill('#token', await p.token('platform_admin', 'acme'));
    await page.click('button[type=submit]');

    // The matrix: one row per contract dataset of the live connectors; the retired one is not there.
    await page.waitForFunction(() => document.querySelectorAll('#release tbody tr').length === 2);
    const rows = await page.$$eval('#release tbody tr', (trs) => trs.map((tr) => ({ id: (tr as HTMLElement).dataset['id'], text: tr.textContent ?? '' })));
    const kept = rows.find((r) => r.id === 'acme.kept')!;
    const changed = rows.find((r) => r.id === 'acme.changed')!;
    expect(kept.text).toMatch(/customers.*PASS.*PASS.*PASS/);
    expect(changed.text).toContain('expect_column_values_to_be_in_set (country)');
    expect(changed.text).toMatch(/FAIL/);
    expect(await page.getAttribute('#release tbody tr[data-id="acme.changed"] a', 'href')).toBe('/api/connectors/acme.changed/receipt');
    expect(await page.locator('#connectors tbody tr[data-id="acme.gone"]').count()).toBe(0);

    // The changed connector's detail: what changed, by whom, the changelog classified; the receipt carries it too.
    await page.click('#connectors tbody tr[data-id="acme.changed"]');
    await page.waitForSelector('#changelog table');
    const log = await page.textContent('#changelog');
    expect(log).toContain('contract changed by user:');
    expect(log).toContain('only German customers');
    expect(log).toMatch(/BREAKING.*QUALITY_CHANGED.*customers\.country/);
    await page.waitForSelector('#receipt');
    expect(await page.textContent('#receipt')).toMatch(/^contract_change:$/m);

    // Retired connectors are one filter away, with who retired them and why.
    await page.selectOption('#f-state', 'RETIRED');
    await page.waitForSelector('#connectors tbody tr[data-id="acme.gone"]');
    await page.click('#connectors tbody tr[data-id="acme.gone"]');
    await page.waitForSelector('#detail-body .retired');
    expect(await page.textContent('#detail-body .retired')).toMatch(/deregistered by user:\S+ .*: source decommissioned/);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: `${shots}dashboard-lifecycle.png`, fullPage: true });
    await page.close();
  });
});
