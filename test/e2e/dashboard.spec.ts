import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { eventually, launchChromium } from '@preflight/testkit';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const shots = fileURLToPath(new URL('../../test-results/', import.meta.url));
let p: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  p = await startTestPlatform();
  const token = await p.token('platform_admin', 'acme');
  const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (const [name, contract] of [['customers', 'customers.odcs.yaml'], ['customers-v2', 'customers-drifted.odcs.yaml']] as const) {
    const res = await fetch(`${p.url}/api/connectors`, { method: 'POST', headers: h, body: JSON.stringify({ name, sourceType: 'files', config: { path: p.demoDir }, contract: p.contract(contract), autoPreflight: true }) });
    expect(res.status).toBe(201);
  }
  await eventually('both decided', async () => {
    const list = (await (await fetch(`${p.url}/api/connectors`, { headers: h })).json()) as { connectors: Array<{ status: string }> };
    return list.connectors.length === 2 && list.connectors.every((c) => c.status === 'READY' || c.status === 'FAILED');
  }, { timeoutMs: 60_000 });
  // One poison message, so the topics panel has a dead letter to show.
  const raw = p.bus.kafka.producer();
  await raw.connect();
  await raw.send({ topic: p.bus.topics.of('connector.registered'), messages: [{ key: 'acme.poison', value: Buffer.from('not avro') }] });
  await raw.disconnect();
  browser = await launchChromium(chromium);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

describe('ops dashboard in Chromium', () => {
  it('log in, filter, open a connector, read its receipt', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(p.url);
    await page.fill('#token', 'not-a-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('#login-error:has-text("Sign-in failed")');

    await page.fill('#token', await p.token('observability_engineer', ''));
    await page.click('button[type=submit]');
    await page.waitForSelector('#connectors tbody tr');
    expect(await page.textContent('#who')).toContain('observability_engineer');
    expect(await page.locator('#connectors tbody tr').count()).toBe(2);
    await page.waitForSelector('#rates .metric');
    expect(await page.textContent('#rates')).toContain('preflight_ready_rate');
    await page.waitForSelector('#chart svg circle');
    expect(await page.textContent('#incidents')).toMatch(/INC-\w+ .*schema does not match/);
    // Incidents come a page at a time from the server, like connectors.
    expect(await page.textContent('#incidents-info')).toMatch(/^1–[1-9]\d* of [1-9]\d*$/);
    expect(await page.isDisabled('#incidents-prev')).toBe(true);
    expect(await page.textContent('#incidents')).toMatch(/open INC-\w+ .*seen 1×/);
    // The status toggle asks the API for another list: nothing was resolved yet, all shows the open one.
    await page.selectOption('#f-incidents', 'resolved');
    await page.waitForFunction(() => document.querySelector('#incidents')!.textContent === 'None.');
    await page.selectOption('#f-incidents', 'all');
    await page.waitForFunction(() => /open INC-/.test(document.querySelector('#incidents')!.textContent));
    await page.selectOption('#f-incidents', 'open');
    await page.waitForSelector('#topics tbody tr');
    // Live: the dead letters appear on a later refresh without reloading the page: one poison
    // record, dead-lettered by each group that reads the topic (handshake and the projector).
    await page.waitForSelector('#topics td.dead:has-text("2 in .dlq")', { timeout: 30_000 });

    await page.selectOption('#f-state', 'FAILED');
    await page.waitForFunction(() => document.querySelectorAll('#connectors tbody tr').length === 1);
    expect(await page.textContent('#connectors tbody')).toContain('acme.customers-v2');

    await page.selectOption('#f-state', 'READY');
    await page.waitForFunction(() => document.querySelectorAll('#connectors tbody tr').length === 1 && document.querySelector('#connectors tbody')!.textContent.includes('acme.customers'));
    await page.click('#connectors tbody tr');
    await page.waitForSelector('#receipt');
    const receipt = await page.textContent('#receipt');
    expect(receipt).toMatch(/^status: READY$/m);
    expect(receipt).toContain('validated_by: policy:auto-approve');
    expect(await page.textContent('#detail-body .timeline')).toContain('validated');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: `${shots}dashboard.png`, fullPage: true });
    await page.close();
  });
});
