import { afterAll, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpLineageTransport, startLineageService, type RunEvent } from '@preflight/lineage';
import { eventually, testLogger } from '@preflight/testkit';
import { runFeature, Steps } from '../support/gherkin.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

interface World {
  p: TestPlatform;
  received: RunEvent[];
  receiver?: Server;
  lineage?: { stop(): Promise<void> };
  attemptId?: string;
}

let platform: Promise<TestPlatform> | undefined;

async function preflight(w: World, contract: 'customers.odcs.yaml' | 'customers-drifted.odcs.yaml'): Promise<void> {
  const token = await w.p.token('platform_admin', 'acme');
  const res = await fetch(`${w.p.url}/api/connectors`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `lineage-${randomBytes(4).toString('hex')}`, sourceType: 'files', config: { path: w.p.demoDir }, contract: w.p.contract(contract), autoPreflight: true }),
  });
  const body = (await res.json()) as { attemptId: string };
  expect(res.status).toBe(201);
  w.attemptId = body.attemptId;
}

function runOf(w: World): RunEvent[] {
  return w.received.filter((e) => e.run.runId === w.attemptId);
}

const steps = new Steps<World>()
  .define('an OpenLineage receiver listens on 127.0.0.1', async (w) => {
    w.receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        expect(req.url).toBe('/api/v1/lineage');
        w.received.push(JSON.parse(body) as RunEvent);
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => w.receiver!.listen(0, '127.0.0.1', r));
  })
  .define('the lineage service sends to it', async (w) => {
    const url = `http://127.0.0.1:${(w.receiver!.address() as AddressInfo).port}`;
    w.lineage = await startLineageService({ bus: w.p.bus, logger: testLogger('lineage'), transport: new HttpLineageTransport(url), settings: { namespace: 'e2e' }, groupId: `${w.p.bus.topics.prefix}lineage-${randomBytes(3).toString('hex')}` });
  })
  .define('a files connector with its agreed contract is preflighted', (w) => preflight(w, 'customers.odcs.yaml'))
  .define('a files connector with a drifted contract is preflighted', (w) => preflight(w, 'customers-drifted.odcs.yaml'))
  .define(/^the receiver gets START then (COMPLETE|FAIL) for the attempt's run id$/, async (w, last) => {
    await eventually(`START and ${last} for ${w.attemptId}`, () => runOf(w).length >= 2, { timeoutMs: 60_000 });
    const run = runOf(w);
    expect(run.map((e) => e.eventType)).toEqual(['START', last]);
    expect(new Set(run.map((e) => e.job.name)).size).toBe(1);
    expect(run[0]!.job).toMatchObject({ namespace: 'e2e', name: expect.stringMatching(/^preflight\.acme\.lineage-/) });
  })
  .define('the COMPLETE event\'s input {string} has schema, data-quality assertions and a row count', async (w, dataset) => {
    const done = runOf(w).find((e) => e.eventType === 'COMPLETE')!;
    const input = done.inputs.find((d) => d.name === dataset);
    expect(input, JSON.stringify(done.inputs)).toBeDefined();
    expect((input!.facets!['schema']!['fields'] as unknown[]).length).toBeGreaterThan(0);
    expect((input!.inputFacets!['dataQualityAssertions']!['assertions'] as Array<{ success: boolean }>).every((a) => a.success)).toBe(true);
    expect(input!.inputFacets!['dataQualityMetrics']!['rowCount']).toBeGreaterThan(0);
  })
  .define('the FAIL event says why the preflight failed', async (w) => {
    const failed = runOf(w).find((e) => e.eventType === 'FAIL')!;
    expect(failed.run.facets!['errorMessage']!['message']).toMatch(/^preflight FAILED: .*SCHEMA_MISMATCH/);
    expect((failed.run.facets!['test']!['tests'] as Array<{ name: string; status: string }>).find((t) => t.name === 'schema_contract')?.status).toBe('fail');
  });

afterAll(async () => {
  if (platform) await (await platform).stop();
});

runFeature(new URL('../features/lineage.feature', import.meta.url), {
  steps,
  world: async () => ({ p: await (platform ??= startTestPlatform()), received: [] }),
  dispose: async (w) => {
    await w.lineage?.stop();
    await new Promise<void>((r) => (w.receiver ? w.receiver.close(() => r()) : r()));
  },
});
