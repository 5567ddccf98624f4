// npm run bench — the whole preflight pipeline on the real broker: N file-source connectors
// registered at once, preflights/s and registered→validated latency p50/p99, next to a raw
// kafkajs four-hop relay (the same number of hops as registered→handshake→checks→validated)
// of the same message count, in the same run. Services run in this process so the figures
// measure the pipeline, not process start-up.
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Kafka, logLevel } from 'kafkajs';
import { createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { newEvent, type ConnectorSpec } from '@preflight/events';
import { repoRoot } from '@preflight/local-infra';
import { devScopes } from '@preflight/connectors';
import { benchApi } from './api.js';
import { directPipeline } from './direct.js';
import { benchInfra, fmt, percentile, record, row, writeBenchJson } from './env.js';
import { benchProjectorFold } from './projector.js';
import { benchPostgres, type BenchPostgres } from './pg.js';
import { printTargets } from './targets.js';
import { startStepServices } from './platform.js';

// BENCH_SIZES= (empty) skips the pipeline runs, BENCH_API=0 the API bench, BENCH_FOLD=0 the fold bench.
const sizes = (process.env['BENCH_SIZES'] ?? '200,2000').split(',').filter(Boolean).map(Number);
const infra = await benchInfra();
const logger = createLogger({ service: 'bench', level: 'error' });
const root = repoRoot();
// The bench tenant's files root: connectors name paths relative to it, as in production.
const filesRoot = mkdtempSync(join(tmpdir(), 'bench-files-'));
const dir = 'customers';
cpSync(join(root, 'examples', 'demo', 'data'), join(filesRoot, 'bench', dir), { recursive: true });
// Its secrets root: the PostgreSQL source's password file (file:pg-password) lives there.
const secretsRoot = mkdtempSync(join(tmpdir(), 'bench-secrets-'));
const scopes = devScopes({ filesRoot, secretsRoot });
const contractYaml = readFileSync(join(root, 'examples', 'demo', 'contracts', 'customers.odcs.yaml'), 'utf8');
const benchSpec: ConnectorSpec = { name: 'bench-files', sourceType: 'files', configJson: JSON.stringify({ type: 'files', path: dir }), contractYaml, environment: 'development', owner: null, labels: {} };

interface Result { n: number; rate: number; p50: number; p99: number; ready: number; rssMiB?: number; heapMiB?: number }

// A full collection before reading the heap, so the figure is what the services retain, not garbage.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

async function pipeline(n: number): Promise<Result> {
  const prefix = `bench${randomBytes(4).toString('hex')}.`;
  const bus = createBus({ brokers: [infra.brokers], schemaRegistryUrl: infra.registryUrl, topicPrefix: prefix, clientId: 'bench' }, logger);
  await bus.ensureTopics(6);
  await bus.producer.start();
  const services = await startStepServices(bus, logger, scopes);
  const sent = new Map<string, number>();
  const lat: number[] = [];
  let ready = 0;
  let last = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const watch = bus.consumer({
    groupId: `${prefix}watch`,
    handlers: {
      'connector.validated': async (e) => {
        const t = sent.get(e.connectorId);
        if (t === undefined) return;
        sent.delete(e.connectorId);
        last = performance.now();
        lat.push(last - t);
        if (e.status === 'READY') ready++;
        if (lat.length === n) resolve();
      },
    },
  });
  await watch.start();
  await new Promise((r) => setTimeout(r, 1500));
  const spec = benchSpec;
  const first = performance.now();
  let progress = 0;
  const tty = process.stdout.isTTY;
  const ticker = setInterval(() => {
    if (lat.length === progress) return;
    progress = lat.length;
    if (tty) process.stdout.write(`\r\x1b[2K  N=${n}: ${progress}/${n} validated`);
    else process.stderr.write(`  N=${n}: ${progress}/${n} validated\n`);
  }, tty ? 500 : 5_000);
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from({ length: Math.min(200, n - i) }, (_, j) => {
      const connectorId = `bench-${i + j}`;
      return newEvent('connector.registered', { spec: { ...spec, name: connectorId }, autoPreflight: true }, { producer: 'bench@1', tenantId: 'bench', connectorId, correlationId: randomUUID(), actor: 'system:bench' });
    });
    const now = performance.now();
    for (const e of batch) sent.set(e.connectorId, now);
    await bus.producer.publish(...batch);
  }
  await done;
  clearInterval(ticker);
  if (tty) process.stdout.write('\r\x1b[2K');
  // What the running services hold once the N preflights are through (readiness keeps finished
  // attempts for ten minutes, to recognise late inputs).
  collect();
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  await watch.stop();
  for (const s of services) await s.stop();
  await bus.stop();
  lat.sort((a, b) => a - b);
  // Every service of the pipeline runs in this process: its RSS once the N preflights are through.
  return { n, rate: n / ((last - first) / 1000), p50: percentile(lat, 50), p99: percentile(lat, 99), ready, rssMiB: process.memoryUsage().rss / 2 ** 20, heapMiB };
}

/** The same message count through four raw kafkajs consume→produce hops; JSON values of similar size. */
async function rawRelay(n: number): Promise<Result> {
  const prefix = `raw${randomBytes(4).toString('hex')}.`;
  const kafka = new Kafka({ brokers: [infra.brokers], clientId: 'bench-raw', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics = [0, 1, 2, 3, 4].map((i) => `${prefix}hop${i}`);
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 6 })), waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumers = [];
  for (let hop = 0; hop < 4; hop++) {
    const c = kafka.consumer({ groupId: `${prefix}relay${hop}`, maxWaitTimeInMs: 100 });
    await c.connect();
    await c.subscribe({ topic: topics[hop]!, fromBeginning: true });
    await c.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        await producer.send({ topic: topics[hop + 1]!, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
      },
    });
    consumers.push(c);
  }
  const sent = new Map<string, number>();
  const lat: number[] = [];
  let last = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const sinkC = kafka.consumer({ groupId: `${prefix}sink`, maxWaitTimeInMs: 100 });
  await sinkC.connect();
  await sinkC.subscribe({ topic: topics[4]!, fromBeginning: true });
  await sinkC.run({
    eachMessage: async ({ message }) => {
      const t = sent.get(message.key!.toString());
      if (t === undefined) return;
      last = performance.now();
      lat.push(last - t);
      if (lat.length === n) resolve();
    },
  });
  await new Promise((r) => setTimeout(r, 1500));
  const value = Buffer.from(JSON.stringify({ spec: { name: 'bench-files', sourceType: 'files', configJson: JSON.stringify({ type: 'files', path: dir }), contractYaml } }));
  const first = performance.now();
  for (let i = 0; i < n; i += 200) {
    const keys = Array.from({ length: Math.min(200, n - i) }, (_, j) => `k${i + j}`);
    const now = performance.now();
    for (const k of keys) sent.set(k, now);
    await producer.send({ topic: topics[0]!, acks: -1, messages: keys.map((key) => ({ key, value })) });
  }
  await done;
  for (const c of [...consumers, sinkC]) await c.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  lat.sort((a, b) => a - b);
  return { n, rate: n / ((last - first) / 1000), p50: percentile(lat, 50), p99: percentile(lat, 99), ready: n };
}

const w = [26, 8, 14, 12, 12, 10];
console.log('\npipeline bench: file-source connectors registered at once; services in-process; 6 partitions\n');
console.log(row(['', 'N', 'preflights/s', 'p50 (ms)', 'p99 (ms)', 'READY'], w));
for (const n of sizes) {
  const p = await pipeline(n);
  const r = await rawRelay(n);
  const d = await directPipeline(n, benchSpec, scopes, logger);
  console.log(row(['preflight pipeline', n, fmt(p.rate, 1), fmt(p.p50), fmt(p.p99), `${p.ready}/${n}`], w));
  console.log(row(['raw kafkajs 4-hop relay', n, fmt(r.rate, 1), fmt(r.p50), fmt(r.p99), '—'], w));
  console.log(row(['direct (same checks, no Kafka)', n, fmt(d.rate, 1), fmt(d.p50), fmt(d.p99), `${d.ready}/${n}`], w));
  console.log(row(['pipeline / raw', '', fmt(p.rate / r.rate, 3), fmt(p.p50 / r.p50, 1), fmt(p.p99 / r.p99, 1), ''], w));
  console.log(row(['pipeline / direct', '', fmt(p.rate / d.rate, 3), fmt(p.p50 / d.p50, 1), fmt(p.p99 / d.p99, 1), ''], w));
  for (const [name, x] of [['pipeline', p], ['raw_relay', r], ['direct', d]] as const) {
    record(`${name}_n${n}_per_s`, x.rate);
    record(`${name}_n${n}_p50_ms`, x.p50);
    record(`${name}_n${n}_p99_ms`, x.p99);
  }
  record(`pipeline_over_raw_n${n}`, p.rate / r.rate);
  record(`pipeline_over_direct_n${n}`, p.rate / d.rate);
  console.log(`  RSS after the pipeline at N=${n}: ${fmt(p.rssMiB ?? NaN)} MiB (every service in this one process)`);
  record(`rss_after_pipeline_n${n}_mib`, p.rssMiB ?? NaN);
  console.log(`  heap after a full GC, services still running, at N=${n}: ${fmt(p.heapMiB ?? NaN)} MiB`);
  record(`heap_after_pipeline_n${n}_mib`, p.heapMiB ?? NaN);
}

if (process.env['BENCH_API'] !== '0') {
  const body = { name: 'bench-api', sourceType: 'files', config: JSON.parse(benchSpec.configJson) as unknown, contract: contractYaml, environment: 'development', labels: {} };
  // BENCH_PG=0 leaves the PostgreSQL preflights out (and a machine without PostgreSQL does).
  let pg: BenchPostgres | undefined;
  const apiParts = (process.env['BENCH_API_PARTS'] ?? 'pg').split(',').map((x) => x.trim());
  if (process.env['BENCH_PG'] !== '0' && apiParts.includes('pg')) {
    try {
      pg = await benchPostgres(secretsRoot, 'bench');
    } catch (e) {
      console.log(`PostgreSQL not available (${(e as Error).message.split('\n')[0]}): no PostgreSQL preflights`);
    }
  }
  try {
    await benchApi({ brokers: infra.brokers, registryUrl: infra.registryUrl, spec: benchSpec, body, scopes, logger, tenant: 'bench', pg });
  } finally {
    await pg?.stop();
  }
}
if (process.env['BENCH_FOLD'] !== '0') await benchProjectorFold({ brokers: infra.brokers, registryUrl: infra.registryUrl });
printTargets();
writeBenchJson();
await infra.stop();
