import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createBus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import type { Scopes } from '@preflight/connectors';
import { newEvent, type ConnectorSpec } from '@preflight/events';
import { signDevToken } from '@preflight/auth';
import { startProjectorService } from '@preflight/projector';
import { fmt, percentile, record, row } from './env.js';
import { traceBus } from './trace.js';
import type { BenchPostgres } from './pg.js';
import { directPipeline } from './direct.js';
import { startStepServices } from './platform.js';

export interface ApiBenchOptions {
  brokers: string;
  registryUrl: string;
  spec: ConnectorSpec;
  /** The same spec as the API's registration body (config as an object, contract as YAML). */
  body: Record<string, unknown>;
  scopes: Scopes;
  logger: Logger;
  tenant: string;
  /** A PostgreSQL source for the sequential PostgreSQL preflights (part `pg`); absent: skipped. */
  pg?: BenchPostgres | undefined;
}

/** Sorted figures of one sequential run: wall time, the receipt's duration, CPU per preflight. */
interface Sequential {
  ms: number[];
  receiptMs: number[];
  cpuUs: number;
}

/**
 * The figures a person sees, on the whole platform in this process (four services and the
 * projector with its API): one preflight at a time on an idle platform, `GET /api/topics` while
 * preflights run, and `POST /api/connectors` from 50 clients at once.
 */
export async function benchApi(o: ApiBenchOptions): Promise<void> {
  const sequentialN = Number(process.env['BENCH_SEQ_N'] ?? 50);
  const loadN = Number(process.env['BENCH_API_LOAD_N'] ?? 500);
  const postN = Number(process.env['BENCH_POST_N'] ?? 1000);
  const pgN = Number(process.env['BENCH_PG_SEQ_N'] ?? sequentialN);
  const listN = Number(process.env['BENCH_LIST_N'] ?? 10_000);
  // BENCH_API_PARTS=seq,pg,topics,post,list (default all): run only some of the API bench's parts.
  const parts = new Set((process.env['BENCH_API_PARTS'] ?? 'seq,pg,topics,post,list').split(',').map((s) => s.trim()));
  if (!o.pg) parts.delete('pg');
  const prefix = `api${randomBytes(4).toString('hex')}.`;
  const bus = createBus({ brokers: [o.brokers], schemaRegistryUrl: o.registryUrl, topicPrefix: prefix, clientId: 'bench-api' }, o.logger);
  await bus.ensureTopics(6);
  await bus.producer.start();
  // Stamps every hop of the sequential preflights (BENCH_TRACE=0: not even the wrapper).
  const tracer = process.env['BENCH_TRACE'] === '0' ? undefined : traceBus(bus);
  // Which sequential part is traced: the file preflights (seq, default) or the PostgreSQL ones (pg).
  const traced = process.env['BENCH_TRACE_PART'] === 'pg' ? 'pg' : 'seq';
  // BENCH_API_ALONE=1: only the projector and its API in this process, as in production where each
  // service is its own process; for the parts that run no preflight (post, list).
  const apiAlone = process.env['BENCH_API_ALONE'] === '1';
  if (apiAlone && ['seq', 'pg', 'topics'].some((p) => parts.has(p))) throw new Error('BENCH_API_ALONE=1 runs no step service: pick BENCH_API_PARTS from post,list');
  const services = apiAlone ? [] : await startStepServices(bus, o.logger, o.scopes);
  const secret = randomBytes(32).toString('hex');
  const projector = await startProjectorService({ bus, logger: o.logger, scopes: o.scopes, http: { port: 0 }, auth: { mode: 'hs256', secret }, snapshotEveryMs: 5_000 });
  const token = await signDevToken({ roles: ['platform_admin'], tenant: o.tenant }, secret);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  // Outcomes as they arrive: registered→validated wall time, and the receipt's own duration.
  const waiting = new Map<string, { t: number; done: (r: { ms: number; receiptMs: number }) => void }>();
  const watch = bus.consumer({
    groupId: `${prefix}watch`,
    fromBeginning: false,
    handlers: {
      'connector.validated': async (e) => {
        const w = waiting.get(e.connectorId);
        if (!w) return;
        waiting.delete(e.connectorId);
        w.done({ ms: performance.now() - w.t, receiptMs: e.durationMs });
      },
    },
  });
  await watch.start();
  await new Promise((r) => setTimeout(r, 1500));
  const register = (connectorId: string, spec: ConnectorSpec = o.spec): Promise<{ ms: number; receiptMs: number }> => {
    const e = newEvent('connector.registered', { spec: { ...spec, name: connectorId }, autoPreflight: true }, { producer: 'bench@1', tenantId: o.tenant, connectorId, correlationId: randomUUID(), actor: 'system:bench' });
    const outcome = new Promise<{ ms: number; receiptMs: number }>((done) => waiting.set(connectorId, { t: performance.now(), done }));
    tracer?.begin(e.correlationId);
    return bus.producer.publish(e).then(() => outcome);
  };

  // --- one preflight at a time, on an otherwise idle platform ---
  // First-use costs (registry lookups, contract cache) are not the steady state; with the API alone
  // nothing would answer it.
  if (!apiAlone) await register(`${prefix}warm`);
  // What the platform burns doing nothing (consumers' empty fetches, heartbeats, timers): the
  // floor under the CPU per sequential preflight below.
  const idleCpu = process.cpuUsage();
  const idleT = performance.now();
  if (parts.has('seq')) await new Promise((r) => setTimeout(r, Number(process.env['BENCH_IDLE_MS'] ?? 2_000)));
  const idleCpuUsed = process.cpuUsage(idleCpu);
  const idleCpuMsPerS = (idleCpuUsed.user + idleCpuUsed.system) / (performance.now() - idleT);
  if (tracer) tracer.on = traced === 'seq' && parts.has('seq');
  // CPU of this whole process per sequential preflight (every service's share of it): the figure
  // that does not swing with the neighbours' load, unlike the wall-clock latency.
  const sequential = async (n: number, name: string, spec: ConnectorSpec): Promise<Sequential> => {
    const out: Sequential = { ms: [], receiptMs: [], cpuUs: NaN };
    if (n === 0) return out;
    const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const r = await register(`${prefix}${name}-${i}`, spec);
      out.ms.push(r.ms);
      out.receiptMs.push(r.receiptMs);
    }
    const used = process.cpuUsage(cpu);
    out.cpuUs = (used.user + used.system) / n;
    out.ms.sort((a, b) => a - b);
    out.receiptMs.sort((a, b) => a - b);
    return out;
  };
  const fileSeq = await sequential(parts.has('seq') ? sequentialN : 0, 'seq', o.spec);
  if (tracer) tracer.on = false;
  const seq = fileSeq.ms;
  const seqReceipt = fileSeq.receiptMs;
  const seqCpuUs = fileSeq.cpuUs;

  // --- one PostgreSQL preflight at a time: the contract's two tables, ~20 pushdown expectations ---
  let pgSeq: Sequential = { ms: [], receiptMs: [], cpuUs: NaN };
  let pgSessions = NaN;
  let pgStatements = NaN;
  const pgDirect: number[] = [];
  if (parts.has('pg') && o.pg) {
    await register(`${prefix}pg-warm`, o.pg.spec);
    const before = await o.pg.sessions();
    const statementsBefore = await o.pg.statements();
    if (tracer) tracer.on = traced === 'pg';
    pgSeq = await sequential(pgN, 'pg', o.pg.spec);
    if (tracer) tracer.on = false;
    // pg_stat_database counts a session when it ends; give the last ones a moment.
    await new Promise((r) => setTimeout(r, 1_000));
    pgSessions = (await o.pg.sessions() - before) / pgN;
    // Less the two counting queries' own transactions (this one and the sessions query).
    pgStatements = ((await o.pg.statements()) - statementsBefore - 2) / pgN;
    // The checks' own floor: the same preflight through the same handlers, called directly
    // without Kafka, one at a time (bench/direct.ts with N=1).
    for (let i = 0; i < pgN; i++) pgDirect.push((await directPipeline(1, o.pg.spec, o.scopes, o.logger)).p50);
    pgDirect.sort((a, b) => a - b);
  }

  // --- GET /api/topics while loadN preflights run ---
  const topicsMs: number[] = [];
  const load = Promise.all(Array.from({ length: parts.has('topics') ? loadN : 0 }, (_, i) => register(`${prefix}load-${i}`)));
  let loading = parts.has('topics');
  void load.finally(() => (loading = false));
  while (loading) {
    const t = performance.now();
    const res = await fetch(`${projector.url}/api/topics`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET /api/topics answered ${res.status}`);
    topicsMs.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  await load;
  topicsMs.sort((a, b) => a - b);

  // --- POST /api/connectors from 50 clients at once (registration only, no preflight) ---
  // The clients run in their own process (bench/post-client.ts); this process's CPU over the
  // phase is the API's and the services' consuming the registrations, per request.
  let postMs: number[] = [];
  let postRate = NaN;
  let postCpuUs = NaN;
  let postClientCpuUs = NaN;
  if (parts.has('post')) {
    let postCpu: NodeJS.CpuUsage | undefined;
    const result = await runPostClient({ url: `${projector.url}/api/connectors`, headers, body: { ...o.body, autoPreflight: false }, namePrefix: `post-${prefix.slice(0, -1)}`, n: postN, warmup: 200, concurrency: 50 }, () => (postCpu = process.cpuUsage()));
    const postCpuUsed = process.cpuUsage(postCpu);
    if (result.failures.length > 0) throw new Error(`POST /api/connectors: ${result.failures.length} of ${postN} failed, first: ${result.failures[0]}`);
    postMs = result.ms;
    postRate = postN / (result.wallMs / 1000);
    postCpuUs = (postCpuUsed.user + postCpuUsed.system) / postN;
    postClientCpuUs = result.cpuUsPerRequest;
  }
  postMs.sort((a, b) => a - b);
  const rss = process.memoryUsage().rss / 2 ** 20;

  // --- GET /api/connectors, page by page, with listN connectors in the read model ---
  const list = parts.has('list') ? await benchList(o, listN, projector.url, headers, bus) : undefined;

  await watch.stop();
  await projector.stop();
  for (const s of services) await s.stop();
  await bus.stop();

  const w = [46, 12, 12, 12];
  console.log(apiAlone ? `\nAPI bench: the projector and its API alone in this process (BENCH_API_ALONE=1)\n` : `\nAPI and single-preflight bench: the four services and the projector API in this process, file source\n`);
  console.log(row(['', 'p50 (ms)', 'p99 (ms)', 'rate/s'], w));
  console.log(row([`one preflight at a time (${sequentialN}), registered→validated`, fmt(percentile(seq, 50), 1), fmt(percentile(seq, 99), 1), ''], w));
  console.log(row(['  the receipt\'s own duration', fmt(percentile(seqReceipt, 50), 1), fmt(percentile(seqReceipt, 99), 1), ''], w));
  console.log(row(['  CPU µs per sequential preflight, whole process', fmt(seqCpuUs, 0), '', ''], w));
  console.log(row(['  CPU ms per second of the idle platform', fmt(idleCpuMsPerS, 1), '', ''], w));
  if (parts.has('pg')) {
    console.log(row([`one PostgreSQL preflight at a time (${pgN})`, fmt(percentile(pgSeq.ms, 50), 1), fmt(percentile(pgSeq.ms, 99), 1), ''], w));
    console.log(row(['  the receipt\'s own duration', fmt(percentile(pgSeq.receiptMs, 50), 1), fmt(percentile(pgSeq.receiptMs, 99), 1), ''], w));
    console.log(row(['  CPU µs per PostgreSQL preflight, whole process', fmt(pgSeq.cpuUs, 0), '', ''], w));
    console.log(row(['  source sessions per PostgreSQL preflight', fmt(pgSessions, 1), '', ''], w));
    console.log(row(['  source statements per PostgreSQL preflight', fmt(pgStatements, 1), '', ''], w));
    console.log(row(['  the same checks called directly, no Kafka', fmt(percentile(pgDirect, 50), 1), fmt(percentile(pgDirect, 99), 1), ''], w));
  }
  if (list) {
    console.log(row([`GET /api/connectors, ${fmt(list.connectors)} connectors, ${list.pages} pages`, fmt(list.p50, 1), fmt(list.p99, 1), ''], w));
    console.log(row(['  bytes per page (largest)', fmt(list.maxBytes), '', ''], w));
  }
  console.log(row([`GET /api/topics while ${loadN} preflights run (${topicsMs.length})`, fmt(percentile(topicsMs, 50), 1), fmt(percentile(topicsMs, 99), 1), ''], w));
  console.log(row([`POST /api/connectors, 50 at once (${postN})`, fmt(percentile(postMs, 50), 1), fmt(percentile(postMs, 99), 1), fmt(postRate, 0)], w));
  console.log(row([apiAlone ? '  CPU µs per POST, the API process' : '  CPU µs per POST, API and services (this process)', fmt(postCpuUs, 0), '', ''], w));
  console.log(row(['  CPU µs per POST, the clients (their own process)', fmt(postClientCpuUs, 0), '', ''], w));
  console.log(row(['RSS of this process after the API bench (MiB)', fmt(rss, 0), '', ''], w));
  if (parts.has(traced)) tracer?.report();
  record('single_file_preflight_p50_ms', percentile(seq, 50));
  record('single_file_preflight_p99_ms', percentile(seq, 99));
  record('single_file_preflight_receipt_p50_ms', percentile(seqReceipt, 50));
  record('single_file_preflight_receipt_p99_ms', percentile(seqReceipt, 99));
  record('single_file_preflight_cpu_us', seqCpuUs);
  record('idle_platform_cpu_ms_per_s', idleCpuMsPerS);
  record('api_topics_under_load_p50_ms', percentile(topicsMs, 50));
  record('api_topics_under_load_p99_ms', percentile(topicsMs, 99));
  record('api_post_connectors_c50_per_s', postRate);
  record('api_post_connectors_c50_p50_ms', percentile(postMs, 50));
  record('api_post_connectors_c50_p99_ms', percentile(postMs, 99));
  record('api_post_connectors_c50_cpu_us_per_req', postCpuUs);
  record('api_post_connectors_c50_client_cpu_us_per_req', postClientCpuUs);
  record('api_bench_rss_mib', rss);
  record('single_pg_preflight_p50_ms', percentile(pgSeq.ms, 50));
  record('single_pg_preflight_p99_ms', percentile(pgSeq.ms, 99));
  record('single_pg_preflight_receipt_p50_ms', percentile(pgSeq.receiptMs, 50));
  record('single_pg_preflight_cpu_us', pgSeq.cpuUs);
  record('single_pg_preflight_source_sessions', pgSessions);
  record('single_pg_preflight_source_statements', pgStatements);
  record('single_pg_preflight_direct_p50_ms', percentile(pgDirect, 50));
  record('single_pg_preflight_direct_p99_ms', percentile(pgDirect, 99));
  if (list) {
    record('api_list_connectors_n', list.connectors);
    record('api_list_connectors_p50_ms', list.p50);
    record('api_list_connectors_p99_ms', list.p99);
    record('api_list_connectors_page_max_bytes', list.maxBytes);
  }
}

/**
 * `GET /api/connectors` with `n` connectors registered (no preflight): every page walked with its
 * cursor at the default page size, twice, and the first page 100 more times.
 */
async function benchList(o: ApiBenchOptions, n: number, url: string, headers: Record<string, string>, bus: { producer: { publish(...e: ReturnType<typeof newEvent>[]): Promise<void> } }): Promise<{ connectors: number; pages: number; p50: number; p99: number; maxBytes: number }> {
  const get = async (path: string): Promise<{ ms: number; bytes: number; body: { total: number; nextCursor: string | null } }> => {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { headers });
    const buf = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    return { ms: performance.now() - t, bytes: buf.length, body: JSON.parse(buf.toString('utf8')) as { total: number; nextCursor: string | null } };
  };
  const before = (await get('/api/connectors?limit=1')).body.total;
  for (let i = 0; i < n; i += 500) {
    const batch = Array.from({ length: Math.min(500, n - i) }, (_, j) => {
      const connectorId = `${o.tenant}.list-${i + j}`;
      return newEvent('connector.registered', { spec: { ...o.spec, name: `list-${i + j}` }, autoPreflight: false }, { producer: 'bench@1', tenantId: o.tenant, connectorId, correlationId: randomUUID(), actor: 'system:bench' });
    });
    await bus.producer.publish(...batch);
  }
  // Until the projector has folded them all (besides the connectors the other parts registered).
  let total = 0;
  for (const deadline = Date.now() + 120_000; ; ) {
    const { body } = await get('/api/connectors?limit=1');
    total = body.total;
    if (total >= before + n) break;
    if (Date.now() > deadline) throw new Error(`the projector shows ${body.total} of ${n} connectors after 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const ms: number[] = [];
  let maxBytes = 0;
  let pages = 0;
  for (let walk = 0; walk < 2; walk++) {
    let cursor: string | null = null;
    do {
      const r = await get(`/api/connectors${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
      ms.push(r.ms);
      maxBytes = Math.max(maxBytes, r.bytes);
      cursor = r.body.nextCursor;
      if (walk === 0) pages++;
    } while (cursor);
  }
  for (let i = 0; i < 100; i++) ms.push((await get('/api/connectors')).ms);
  ms.sort((a, b) => a - b);
  return { connectors: total, pages, p50: percentile(ms, 50), p99: percentile(ms, 99), maxBytes };
}

interface PostResult {
  ms: number[];
  wallMs: number;
  cpuUsPerRequest: number;
  failures: string[];
}

/** Runs bench/post-client.ts in a child process and returns what it measured; `onWarm` when its warm-up is done. */
async function runPostClient(job: { url: string; headers: Record<string, string>; body: Record<string, unknown>; namePrefix: string; n: number; warmup: number; concurrency: number }, onWarm: () => void): Promise<PostResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./post-client.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.startsWith('warm\n')) {
      out = out.slice(5);
      onWarm();
    }
  });
  child.stdin.end(JSON.stringify(job));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
  if (code !== 0) throw new Error(`the POST client exited with ${code}`);
  return JSON.parse(out) as PostResult;
}
