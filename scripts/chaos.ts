// `npm run chaos [-- --n=2000]` — the platform under faults, checked from the topics.
// A three-broker KRaft cluster (replication 3, min.insync 2), two instances of every pipeline
// service and two projector replicas as separate processes, N preflights against file and
// PostgreSQL sources started through the API, and while they run: kill -9 of one broker, of one
// instance of each service and of a projector (each restarted), and a frozen broker
// (SIGSTOP/SIGCONT). Then it asserts: exactly one outcome per attempt, none lost, no handshake run
// twice against the source, each projector equal to a rebuild from the log, every operation
// SUCCEEDED with its attempt's result. Exit code 0 only if all hold.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { newEvent, type ConnectorSpec, type ConnectorValidated } from '@preflight/events';
import { dataRoot, freePort, isRunning, repoRoot, startKafkaCluster, startPostgres, stopChildren, waitFor, type DbServerHandle } from '@preflight/local-infra';
import { ProjectorRunner } from '@preflight/projector';
import { signDevToken } from '@preflight/auth';
import { startSchemaRegistry } from '@preflight/schema-registry';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const N = Number(arg('n') ?? process.env['CHAOS_N'] ?? 300);
if (!Number.isInteger(N) || N < 4) throw new Error(`--n must be a whole number of at least 4, got ${arg('n') ?? process.env['CHAOS_N']}`);
const root = repoRoot();
const runDir = join(dataRoot(), 'chaos', `${Date.now()}`);
mkdirSync(runDir, { recursive: true });
const say = (s: string): void => void process.stdout.write(`${s}\n`);
const t0 = Date.now();
const since = (): string => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const cleanups: Array<() => Promise<void>> = [];
async function cleanup(): Promise<void> {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function main(): Promise<number> {
  // 1. The cluster, the registry on it, the sources.
  const cluster = await startKafkaCluster({ size: 3, dir: join(runDir, 'kafka'), log: (l) => say(`[${since()}] ${l}`) });
  cleanups.push(() => cluster.stop());
  const registry = await startSchemaRegistry({ brokers: cluster.brokers, port: 0 });
  cleanups.push(() => registry.close());
  const prefix = `chaos${randomBytes(3).toString('hex')}.`;
  const logger = createLogger({ service: 'chaos', level: 'warn' });
  const bus = createBus({ brokers: cluster.brokers.split(','), schemaRegistryUrl: registry.url, topicPrefix: prefix, clientId: 'chaos' }, logger);
  await bus.ensureTopics(6);
  await bus.producer.start();
  cleanups.push(() => bus.stop());

  // Tenant chaos's files and secrets live in its own roots, as every tenant's do (docs/security.md).
  const filesRoot = join(runDir, 'tenant-files');
  const secretsRoot = join(runDir, 'tenant-secrets');
  const files = 'customers';
  cpSync(join(root, 'examples', 'demo', 'data'), join(filesRoot, 'chaos', files), { recursive: true });
  mkdirSync(join(secretsRoot, 'chaos'), { recursive: true });
  const contract = readFileSync(join(root, 'examples', 'demo', 'contracts', 'customers.odcs.yaml'), 'utf8');
  let pg: DbServerHandle | undefined;
  const pgPassword = `chaos-${randomBytes(6).toString('hex')}`;
  try {
    if (process.env['PREFLIGHT_SKIP_POSTGRES']) throw new Error('PREFLIGHT_SKIP_POSTGRES');
    pg = await startPostgres({ dir: join(runDir, 'pg') });
    cleanups.push(() => pg!.stop());
    await pg.exec(`CREATE ROLE chaos_reader LOGIN PASSWORD '${pgPassword}'`);
    writeFileSync(join(secretsRoot, 'chaos', 'pg-password'), pgPassword, { mode: 0o600 });
    await pg.exec(`CREATE DATABASE chaos`);
  } catch (e) {
    say(`PostgreSQL not available (${(e as Error).message.split('\n')[0]}); file sources only`);
  }
  const pgConnectionCount = async (): Promise<number> => {
    const { default: pgc } = await import('pg');
    const c = new pgc.Client({ host: '127.0.0.1', port: pg!.port, user: pg!.adminUser, password: pg!.adminPassword, database: 'postgres' });
    await c.connect();
    try {
      const r = await c.query<{ sessions: string }>(`SELECT sessions FROM pg_stat_database WHERE datname = 'chaos'`);
      return Number(r.rows[0]?.sessions ?? 0);
    } finally {
      await c.end();
    }
  };
  if (pg) {
    // Owned by the admin, read-only for the connector's role: what the credential audit expects of least privilege.
    const { default: pgc } = await import('pg');
    const c = new pgc.Client({ host: '127.0.0.1', port: pg.port, user: pg.adminUser, password: pg.adminPassword, database: 'chaos' });
    await c.connect();
    await c.query(`CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, country text NOT NULL, created_at timestamptz)`);
    await c.query(`INSERT INTO customers SELECT g, 'customer' || g || '@example.com', (ARRAY['DE','FR','NL','US'])[1 + g % 4], now() - g * interval '1 day' FROM generate_series(1, 200) g`);
    await c.query(`GRANT SELECT ON customers TO chaos_reader`);
    await c.end();
  }

  // 2. Two instances of every service, two projector replicas.
  const jwtSecret = randomBytes(32).toString('hex');
  const serviceEnv = { ...process.env, KAFKA_BROKERS: cluster.brokers, SCHEMA_REGISTRY_URL: registry.url, TOPIC_PREFIX: prefix, PREFLIGHT_JWT_SECRET: jwtSecret, PREFLIGHT_FILES_ROOT: filesRoot, PREFLIGHT_SECRETS_DIR: secretsRoot, LOG_LEVEL: 'info',
    // An overloaded machine under faults is slow, not wrong: the timeouts must not decide the outcomes.
    PREFLIGHT_TIMEOUT_MS: '600000', OPERATION_TIMEOUT_MS: '900000' };
  interface Instance {
    name: string;
    service: string;
    env: Record<string, string>;
    child: ChildProcess;
    starts: number;
  }
  const instances: Instance[] = [];
  function spawnInstance(inst: Omit<Instance, 'child' | 'starts'> & { starts?: number }): Instance {
    const out = openSync(join(runDir, `${inst.name}.log`), 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=preflight-source', join(root, 'services', inst.service, 'src', 'main.ts')], { stdio: ['ignore', out, out], env: { ...serviceEnv, ...inst.env } });
    return Object.assign(inst, { child, starts: (inst.starts ?? 0) + 1 });
  }
  cleanups.push(async () => void (await stopChildren(instances.map((i) => i.child))));
  const apiPorts = [await freePort(), await freePort()];
  for (const service of ['handshake', 'schema-validator', 'credential-auditor', 'readiness']) {
    for (const n of [1, 2]) instances.push(spawnInstance({ name: `${service}-${n}`, service, env: {} }));
  }
  for (const n of [1, 2]) instances.push(spawnInstance({ name: `projector-${n}`, service: 'projector', env: { PROJECTOR_INSTANCE: `p${n}`, API_PORT: String(apiPorts[n - 1]), API_HOST: '127.0.0.1' } }));
  const apis = apiPorts.map((p) => `http://127.0.0.1:${p}`);
  const token = await signDevToken({ sub: 'chaos', roles: ['platform_admin'], tenant: 'chaos' }, jwtSecret);
  const api = async (base: string, path: string, init: RequestInit = {}): Promise<Response> => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(10_000) });
  await waitFor('both projector APIs ready', async () => (await Promise.all(apis.map((a) => fetch(`${a}/readyz`).then((r) => r.ok, () => false)))).every(Boolean), { timeoutMs: 180_000, intervalMs: 500 });
  say(`[${since()}] 8 service instances and 2 projector replicas up (logs: ${runDir})`);

  // 3. Watch outcomes and the source steps' answers on the topics.
  const outcomes = new Map<string, Array<{ e: ConnectorValidated; at: number; where: string }>>();
  const handshakes = new Map<string, Set<string>>();
  /**
   * Each source step's answers per attempt, as distinct payloads. Answers carry ids derived from
   * their input, so a step that ran again shows up as a second answer with the same id but its own
   * occurredAt and durations; durable dedupe keeps these at one. A publish sent again after an
   * error although it had landed (a broker killed mid-request) repeats the same payload: counted
   * apart, as records, since consumers drop it by its id.
   */
  const STEP_TYPES = ['connector.handshake', 'connector.schema.checked', 'connector.credentials.audited'] as const;
  const answers = new Map<string, Set<string>>();
  let answerRecords = 0;
  const seenPositions = new Set<string>();
  const watcher = bus.kafka.consumer({ groupId: `${prefix}chaos-watch`, maxWaitTimeInMs: 100 });
  await watcher.connect();
  await watcher.subscribe({ topics: [bus.topics.of('connector.validated'), ...STEP_TYPES.map((t) => bus.topics.of(t))], fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ topic, partition, message }) => {
      // The watcher itself may be handed a record again (its own rebalance under the faults):
      // count each position on the log once, so what is counted is what the log holds.
      const position = `${topic}/${partition}/${message.offset}`;
      if (seenPositions.has(position)) return;
      seenPositions.add(position);
      const e = await bus.codec.decode(message.value, bus.topics.typeOf(topic)!);
      if (e.eventType === 'connector.validated') outcomes.set(e.correlationId, [...(outcomes.get(e.correlationId) ?? []), { e, at: Date.now(), where: `${partition}/${message.offset} at ${new Date(Number(message.timestamp)).toISOString()}` }]);
      if (e.eventType === 'connector.handshake') handshakes.set(e.correlationId, (handshakes.get(e.correlationId) ?? new Set()).add(e.eventId));
      if ((STEP_TYPES as readonly string[]).includes(e.eventType)) {
        const key = `${e.eventType} ${e.correlationId}`;
        answers.set(key, (answers.get(key) ?? new Set()).add(JSON.stringify(e)));
        answerRecords++;
      }
    },
  });
  cleanups.push(() => watcher.disconnect());

  // 4. N connectors, registered upstream; preflights requested through both APIs while faults happen.
  const connectors = Array.from({ length: N }, (_, i) => {
    const usePg = pg !== undefined && i % 3 === 2;
    const spec: ConnectorSpec = usePg
      ? { name: `pg-${i}`, sourceType: 'postgres', configJson: JSON.stringify({ type: 'postgres', host: '127.0.0.1', port: pg!.port, database: 'chaos', user: 'chaos_reader', secretRef: 'file:pg-password', schema: 'public' }), contractYaml: contract, environment: 'development', owner: 'chaos', labels: {} }
      : { name: `files-${i}`, sourceType: 'files', configJson: JSON.stringify({ type: 'files', path: files }), contractYaml: contract, environment: 'development', owner: 'chaos', labels: {} };
    return { connectorId: `chaos-${i}`, spec, pg: usePg };
  });
  for (let i = 0; i < connectors.length; i += 100) {
    await bus.producer.publish(...connectors.slice(i, i + 100).map((c) => newEvent('connector.registered', { spec: c.spec, autoPreflight: false }, { producer: 'chaos@1', tenantId: 'chaos', connectorId: c.connectorId, correlationId: randomUUID(), actor: 'system:chaos' })));
  }
  await waitFor('both projectors know every connector', async () => {
    const counts = await Promise.all(apis.map(async (a) => ((await (await api(a, '/api/metrics')).json()) as { metrics: { connectors_by_state: Record<string, number> } }).metrics.connectors_by_state['REGISTERED']));
    return counts.every((n) => n === N);
  }, { timeoutMs: 120_000, intervalMs: 500 });
  const ops: Array<{ connectorId: string; operationId: string; attemptId: string }> = [];
  const request = async (i: number, c: (typeof connectors)[number]): Promise<{ attemptId: string }> => {
    const key = `chaos-${c.connectorId}`;
    for (let tries = 0; ; tries++) {
      // Alternate replicas; a replica that is down sends the request to the other one.
      const base = apis[(i + tries) % 2]!;
      try {
        const r = await api(base, `/api/connectors/${c.connectorId}/preflight`, { method: 'POST', headers: { 'idempotency-key': key }, body: '{}' });
        if (r.status !== 202) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
        const op = (await r.json()) as { id: string; attemptId: string };
        ops.push({ connectorId: c.connectorId, operationId: op.id, attemptId: op.attemptId });
        return op;
      } catch (e) {
        if (tries > 60) throw new Error(`could not request a preflight for ${c.connectorId}: ${(e as Error).message}`);
        await sleep(500);
      }
    }
  };
  // Calibration, before any fault: how many sessions one PostgreSQL preflight opens.
  const calibration = connectors.findIndex((c) => c.pg);
  let sessionsPerAttempt = 0;
  if (pg && calibration >= 0) {
    const before = await pgConnectionCount();
    const { attemptId } = await request(calibration, connectors[calibration]!);
    const started = Date.now();
    const done = await waitFor('the calibration preflight', async () => outcomes.has(attemptId), { timeoutMs: 300_000, intervalMs: 250 }).then(() => true, () => false);
    if (done) sessionsPerAttempt = (await pgConnectionCount()) - before;
    say(`[${since()}] calibration: ${done ? `one PostgreSQL preflight in ${((Date.now() - started) / 1000).toFixed(1)} s, ${sessionsPerAttempt} source sessions` : 'no outcome within 300 s; source sessions are not compared'}`);
  }
  const pgBefore = pg ? await pgConnectionCount() : 0;

  const faults: Array<{ at: number; what: string }> = [];
  const fault = (what: string): void => {
    faults.push({ at: Date.now(), what });
    say(`[${since()}] fault: ${what}`);
  };
  const instance = (name: string): Instance => instances.find((i) => i.name === name)!;
  async function killAndRestart(names: string[], downMs: number): Promise<void> {
    for (const n of names) instance(n).child.kill('SIGKILL');
    fault(`kill -9 ${names.join(', ')}`);
    await sleep(downMs);
    for (const n of names) {
      const i = instance(n);
      await new Promise((r) => (isRunning(i.child) ? i.child.once('exit', r) : r(undefined)));
      spawnInstance(i);
    }
    say(`[${since()}] restarted ${names.join(', ')}`);
  }
  // Requests keep coming while the faults happen, so there is work in flight at each of them.
  const requestSpanMs = Math.max(45_000, N * 40);
  const chaos = (async () => {
    await sleep(requestSpanMs * 0.15);
    const broker = cluster.nodes[1]!;
    broker.signal('SIGKILL');
    fault(`kill -9 broker ${broker.id}`);
    await sleep(6_000);
    await broker.restart();
    fault(`broker ${broker.id} back`);
    await killAndRestart(['handshake-1', 'schema-validator-1', 'credential-auditor-1', 'readiness-1'], 3_000);
    await killAndRestart(['projector-2'], 2_000);
    const frozen = cluster.nodes[2]!;
    frozen.signal('SIGSTOP');
    fault(`SIGSTOP broker ${frozen.id}`);
    await sleep(8_000);
    frozen.signal('SIGCONT');
    fault(`SIGCONT broker ${frozen.id}`);
  })();

  for (const [i, c] of connectors.entries()) {
    if (pg && i === calibration) continue; // requested above
    await request(i, c);
    await sleep(requestSpanMs / N);
  }
  await chaos;
  const lastFault = Math.max(...faults.map((f) => f.at));
  say(`[${since()}] ${ops.length} preflights requested; waiting for every outcome`);
  await waitFor('every attempt has an outcome', async () => ops.every((o) => outcomes.has(o.attemptId)), { timeoutMs: 300_000, intervalMs: 250 }).catch(() => undefined);

  // 5. Checks, from the topics and both replicas.
  const failures: string[] = [];
  const check = (ok: boolean, what: string): void => {
    say(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
    if (!ok) failures.push(what);
  };
  await sleep(3_000); // a duplicate outcome, if any, would land now
  const lost = ops.filter((o) => !outcomes.has(o.attemptId));
  // One decision per attempt: a second outcome with its own payload (its own occurredAt,
  // durations, receipt) would mean readiness decided twice. A record written twice with the same
  // payload and id is a produce that had landed and was sent again (kafkajs's retry, or a publish
  // retried after an error); consumers drop it by its id, as they do re-sent step answers.
  const decisions = (o: { attemptId: string }): number => new Set((outcomes.get(o.attemptId) ?? []).map((r) => JSON.stringify(r.e))).size;
  const twice = ops.filter((o) => decisions(o) > 1);
  const resentOutcomes = ops.filter((o) => (outcomes.get(o.attemptId)?.length ?? 0) > decisions(o));
  check(lost.length === 0, `no attempt lost (${lost.length} of ${ops.length} without an outcome${lost.length ? `: ${lost.slice(0, 5).map((o) => o.connectorId).join(', ')}` : ''})`);
  check(twice.length === 0, `exactly one outcome per attempt (${twice.length} decided more than once)`);
  say(`INFO  outcome records written twice with the same payload and id (a produce that had landed, sent again): ${resentOutcomes.length} attempt(s)`);
  for (const o of [...twice, ...resentOutcomes].slice(0, 5)) {
    const records = outcomes.get(o.attemptId)!;
    const same = new Set(records.map((r) => JSON.stringify(r.e))).size === 1;
    say(`INFO  ${o.connectorId}: ${records.length} outcome records, ${same ? 'the same payload (a re-sent record)' : 'different payloads (decided twice)'}: ${records.map((r) => r.where).join(', ')}`);
  }
  const notReady = ops.filter((o) => outcomes.get(o.attemptId)?.[0]?.e.status !== 'READY');
  check(notReady.length === 0, `every preflight READY (${notReady.length} not: ${[...new Set(notReady.map((o) => outcomes.get(o.attemptId)?.[0]?.e.reason ?? 'none'))].join(', ')})`);
  const handshakeTwice = ops.filter((o) => (handshakes.get(o.attemptId)?.size ?? 0) > 1);
  check(handshakeTwice.length === 0, `no handshake run twice for an attempt (${handshakeTwice.length} attempts with more than one connector.handshake)`);
  const answeredTwice = [...answers].filter(([, runs]) => runs.size > 1).map(([k]) => k);
  check(answeredTwice.length === 0, `no source step answered twice (${answeredTwice.length} steps with two different answers on the log${answeredTwice.length ? `: ${answeredTwice.slice(0, 5).join(', ')}` : ''})`);
  const distinctAnswers = [...answers.values()].reduce((n, runs) => n + runs.size, 0);
  say(`INFO  step answers re-sent after a publish error although they had landed: ${answerRecords - distinctAnswers} record(s) (same payload and id; consumers drop them)`);
  let extraSessions: number | null = null;
  if (pg && sessionsPerAttempt > 0) {
    // Measured, not asserted: a step killed during its source I/O has not answered, so the next
    // owner of its partition runs it again; that is the one repeat durable dedupe cannot prevent.
    const pgOps = ops.filter((o) => connectors.find((c) => c.connectorId === o.connectorId)!.pg).length - 1;
    const sessions = (await pgConnectionCount()) - pgBefore;
    extraSessions = sessions - pgOps * sessionsPerAttempt;
    say(`INFO  source sessions: ${sessions} PostgreSQL sessions for ${pgOps} attempts under faults; ${sessionsPerAttempt} per attempt without faults, so ${extraSessions} extra`);
  }
  await waitFor('both projectors ready and caught up', async () => (await Promise.all(apis.map((a) => fetch(`${a}/readyz`).then((r) => r.ok, () => false)))).every(Boolean), { timeoutMs: 120_000, intervalMs: 500 }).catch(() => undefined);
  const rebuilt = await new ProjectorRunner({ bus, logger }).foldLog();
  for (const [n, base] of apis.entries()) {
    let mismatched = 0;
    let opsBad = 0;
    await waitFor(`projector p${n + 1} folded every outcome`, async () => {
      const m = (await (await api(base, '/api/metrics')).json()) as { metrics: { counts: { ready: number; failed: number } } };
      return m.metrics.counts.ready + m.metrics.counts.failed >= rebuilt.overall.ready + rebuilt.overall.failed;
    }, { timeoutMs: 60_000, intervalMs: 500 }).catch(() => undefined);
    for (const c of connectors) {
      const r = await api(base, `/api/connectors/${c.connectorId}`);
      const live = (await r.json()) as { status: string; attempts: number; lastAttemptId: string | null; lastReceipt: unknown; attemptLog: unknown; openIncidents: unknown };
      const want = rebuilt.connectors.get(c.connectorId)!;
      const same = live.status === want.status && live.attempts === want.attempts && live.lastAttemptId === want.lastAttemptId && JSON.stringify(live.attemptLog) === JSON.stringify(want.attemptLog) && JSON.stringify(live.lastReceipt) === JSON.stringify(want.lastReceipt);
      if (!same) mismatched++;
    }
    const counts = ((await (await api(base, '/api/metrics')).json()) as { metrics: { counts: unknown } }).metrics.counts;
    const sameCounts = JSON.stringify(counts) === JSON.stringify(rebuilt.overall);
    check(mismatched === 0 && sameCounts, `projector p${n + 1} equals a rebuild from the log (${mismatched} connectors differ; counters ${sameCounts ? 'equal' : `differ: ${JSON.stringify(counts)} vs ${JSON.stringify(rebuilt.overall)}`})`);
    for (const o of ops) {
      const op = (await (await api(base, `/api/operations/${o.operationId}`)).json()) as { status?: string; result?: { status: string } | null };
      if (op.status !== 'SUCCEEDED' || op.result?.status !== outcomes.get(o.attemptId)?.[0]?.e.status) opsBad++;
    }
    check(opsBad === 0, `projector p${n + 1}: every operation SUCCEEDED with its attempt's result (${opsBad} not)`);
  }

  // 6. Figures.
  const times = [...outcomes.values()].map((v) => v[0]!.at).sort((a, b) => a - b);
  let pause = 0;
  for (let i = 1; i < times.length; i++) pause = Math.max(pause, times[i]! - times[i - 1]!);
  const lastOutcome = times.at(-1) ?? Date.now();
  say('');
  say(`preflights: ${ops.length} (${connectors.filter((c) => c.pg).length} PostgreSQL, ${connectors.filter((c) => !c.pg).length} files) on 3 brokers, 2 instances per service, 2 projectors`);
  say(`faults: ${faults.map((f) => f.what).join('; ')}`);
  say(`longest pause between two outcomes: ${(pause / 1000).toFixed(1)} s`);
  say(`last fault to last outcome: ${((lastOutcome - lastFault) / 1000).toFixed(1)} s`);
  if (extraSessions !== null) say(`extra source sessions under faults: ${extraSessions}`);
  say(`restarts: ${instances.filter((i) => i.starts > 1).map((i) => i.name).join(', ')}`);
  // Issue 14: each service's memory at the end of the run (a restarted instance has run for less).
  const rssMiB = (pid: number | undefined): string => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kb ? `${Math.round(Number(kb) / 1024)} MiB` : '?';
    } catch {
      return '?';
    }
  };
  say(`RSS at the end: ${instances.map((i) => `${i.name} ${rssMiB(i.child.pid)}`).join(', ')}`);
  say(failures.length === 0 ? 'chaos: all checks passed' : `chaos: ${failures.length} check(s) failed`);
  return failures.length === 0 ? 0 : 1;
}

// Whatever happens, stop what the run started.
main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (e: unknown) => {
    say(`chaos: ${(e as Error).stack ?? String(e)}`);
    await cleanup();
    process.exit(2);
  });
