// `npm start` — the local platform on one machine, and a demo that shows it doing its job:
// Kafka + schema registry + every service as its own process, then two file-source connectors
// (one READY, one FAILED on a schema mismatch with an incident), and one PostgreSQL connector
// when PostgreSQL is installed. Prints the receipts and what to look at next.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { newEvent, type ConnectorIncidentOpened, type ConnectorSpec, type ConnectorValidated } from '@preflight/events';
import { dataRoot, portOpen, repoRoot, startKafka, startPostgres, stopChildren, waitFor, type DbServerHandle, type KafkaHandle } from '@preflight/local-infra';
import { startSchemaRegistry } from '@preflight/schema-registry';
import { signDevToken } from '@preflight/auth';

const once = process.argv.includes('--once') || process.env['CI'] === 'true';
const root = repoRoot();
const data = dataRoot();
const logs = join(data, 'logs');
mkdirSync(logs, { recursive: true });
const tty = process.stdout.isTTY;
const say = (s = ''): void => void process.stdout.write(`${s}\n`);
const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string): string => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string): string => (tty ? `\x1b[31m${s}\x1b[0m` : s);
const dim = (s: string): string => (tty ? `\x1b[2m${s}\x1b[0m` : s);

const cleanups: Array<() => Promise<void>> = [];
let stopping: Promise<never> | undefined;
/** Stops everything this script started, once, however it is reached (Ctrl-C, a failed demo, a crash). */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
// Anything the demo did not expect must not leave the services running as orphans.
process.on('uncaughtException', (e) => {
  say(red(`npm start failed: ${e.message}`));
  void shutdown(1);
});
process.on('unhandledRejection', (e) => {
  say(red(`npm start failed: ${(e as Error).message}`));
  void shutdown(1);
});

say(bold('Connector Preflight — local platform'));

// 1. Kafka and the schema registry: reuse running ones (npm run infra:up), else start our own.
let brokers = process.env['KAFKA_BROKERS'];
const kafkaPort = Number(process.env['KAFKA_PORT'] ?? 9092);
if (!brokers && (await portOpen(kafkaPort))) brokers = `127.0.0.1:${kafkaPort}`;
if (!brokers) {
  let kafka: KafkaHandle;
  try {
    kafka = await startKafka({ port: kafkaPort, controllerPort: kafkaPort + 1, dir: join(data, 'kafka-start'), log: (l) => say(dim(`  ${l}`)) });
  } catch {
    kafka = await startKafka({ log: (l) => say(dim(`  ${l}`)) });
  }
  brokers = kafka.brokers;
  cleanups.push(() => kafka.stop());
}
say(`  Kafka            ${brokers}`);
let registryUrl = process.env['SCHEMA_REGISTRY_URL'];
const registryPort = Number(process.env['SCHEMA_REGISTRY_PORT'] ?? 8081);
if (!registryUrl && (await portOpen(registryPort))) registryUrl = `http://127.0.0.1:${registryPort}`;
if (!registryUrl) {
  const reg = await startSchemaRegistry({ brokers, port: (await portOpen(registryPort)) ? 0 : registryPort });
  registryUrl = reg.url;
  cleanups.push(() => reg.close());
}
say(`  schema registry  ${registryUrl}`);

const logger = createLogger({ service: 'demo', level: 'warn' });
const bus = createBus({ brokers: [brokers], schemaRegistryUrl: registryUrl, topicPrefix: process.env['TOPIC_PREFIX'] ?? '', clientId: 'demo' }, logger);
await bus.ensureTopics();
await bus.producer.start();
cleanups.push(() => bus.stop());

// 2. The demo sources: the bundled files, and PostgreSQL when it is installed. Everything a
//    tenant's connector reads lives in that tenant's roots: files under <files root>/demo/,
//    secrets under <secrets root>/demo/ (docs/security.md).
const filesRoot = join(data, 'files');
const secretsRoot = join(data, 'secrets');
cpSync(join(root, 'examples', 'demo', 'data'), join(filesRoot, 'demo', 'customers'), { recursive: true });
mkdirSync(join(secretsRoot, 'demo'), { recursive: true, mode: 0o700 });
const contract = (name: string): string => readFileSync(join(root, 'examples', 'demo', 'contracts', name), 'utf8');
const run = randomBytes(3).toString('hex');
const specs: Array<{ connectorId: string; spec: ConnectorSpec; expect: string }> = [
  {
    connectorId: `demo-files-customers-${run}`,
    expect: 'READY',
    spec: { name: 'files-customers', sourceType: 'files', configJson: JSON.stringify({ type: 'files', path: 'customers' }), contractYaml: contract('customers.odcs.yaml'), environment: 'development', owner: 'demo', labels: { demo: 'true' } },
  },
  {
    connectorId: `demo-files-customers-v2-${run}`,
    expect: 'FAILED (schema mismatch)',
    spec: { name: 'files-customers-v2', sourceType: 'files', configJson: JSON.stringify({ type: 'files', path: 'customers' }), contractYaml: contract('customers-drifted.odcs.yaml'), environment: 'development', owner: 'demo', labels: { demo: 'true' } },
  },
];

let pg: DbServerHandle | undefined;
try {
  if (process.env['PREFLIGHT_SKIP_POSTGRES']) throw new Error('skipped (PREFLIGHT_SKIP_POSTGRES)');
  pg = await startPostgres({ log: () => undefined });
  cleanups.push(() => pg!.stop());
  const pw = `demo-${randomBytes(6).toString('hex')}`;
  await pg.exec(`CREATE ROLE demo_reader LOGIN PASSWORD '${pw}'`);
  await pg.exec(`CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, country text NOT NULL, created_at timestamptz)`);
  await pg.exec(`INSERT INTO customers SELECT g, 'customer' || g || '@example.com', (ARRAY['DE','FR','NL','US'])[1 + g % 4], now() - g * interval '1 day' FROM generate_series(1, 500) g`);
  await pg.exec(`GRANT SELECT ON customers TO demo_reader`);
  writeFileSync(join(secretsRoot, 'demo', 'postgres-password'), pw, { mode: 0o600 });
  say(`  PostgreSQL       127.0.0.1:${pg.port} ${dim('(demo database, role demo_reader)')}`);
  specs.push({
    connectorId: `demo-postgres-customers-${run}`,
    expect: 'READY',
    spec: {
      name: 'postgres-customers',
      sourceType: 'postgres',
      configJson: JSON.stringify({ type: 'postgres', host: '127.0.0.1', port: pg.port, database: 'postgres', user: 'demo_reader', secretRef: 'file:postgres-password', schema: 'public' }),
      contractYaml: contract('customers.odcs.yaml'),
      environment: 'development',
      owner: 'demo',
      labels: { demo: 'true' },
    },
  });
} catch (e) {
  say(dim(`  PostgreSQL       not available (${(e as Error).message.split('\n')[0]}); running the file-source demo only`));
}
// 3. Every service in its own process, as in production.
const apiPort = Number(process.env['API_PORT'] ?? 8080);
const services = ['handshake', 'schema-validator', 'credential-auditor', 'readiness', 'projector'].filter((s) => existsSync(join(root, 'services', s, 'src', 'main.ts')));
const children: ChildProcess[] = [];
for (const name of services) {
  const out = openSync(join(logs, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=preflight-source', join(root, 'services', name, 'src', 'main.ts')], {
    stdio: ['ignore', out, out],
    env: { ...process.env, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, API_PORT: String(apiPort), API_HOST: '127.0.0.1', PREFLIGHT_FILES_ROOT: filesRoot, PREFLIGHT_SECRETS_DIR: secretsRoot },
  });
  children.push(child);
}
cleanups.push(async () => void (await stopChildren(children)));
say(`  services         ${services.join(', ')} ${dim(`(logs: ${logs})`)}`);

if (services.includes('projector')) {
  await waitFor(`the API on 127.0.0.1:${apiPort}`, () => portOpen(apiPort), { timeoutMs: 60_000 }).catch(() => say(dim(`  API did not come up; see ${join(logs, 'projector.log')}`)));
}

// 4. Watch the outcomes of the demo's own connectors as they happen. A plain reader, not a
//    service consumer: the demo is not part of the platform and writes no dead letters.
const outcomes = new Map<string, ConnectorValidated>();
const seen = new Map<string, string[]>();
const incidents = new Map<string, ConnectorIncidentOpened>();
const ours = new Set(specs.map((s) => s.connectorId));
const watched = ['connector.handshake', 'connector.schema.checked', 'connector.credentials.audited', 'connector.incident.opened', 'connector.validated'] as const;
const watcher = bus.kafka.consumer({ groupId: `demo-watch-${run}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
await watcher.connect();
await watcher.subscribe({ topics: watched.map((t) => bus.topics.of(t)), fromBeginning: false });
let watcherStopped = false;
const stopWatcher = async (): Promise<void> => {
  if (watcherStopped) return;
  watcherStopped = true;
  await watcher.disconnect();
};
cleanups.push(stopWatcher);
await watcher.run({
  eachMessage: async ({ topic, message }) => {
    if (!message.key || !ours.has(message.key.toString())) return;
    const e = await bus.codec.decode(message.value, bus.topics.typeOf(topic)!).catch(() => undefined);
    if (!e || !ours.has(e.connectorId)) return;
    seen.set(e.connectorId, [...(seen.get(e.connectorId) ?? []), e.eventType.replace('connector.', '')]);
    if (e.eventType === 'connector.validated') outcomes.set(e.connectorId, e);
    if (e.eventType === 'connector.incident.opened') incidents.set(e.connectorId, e);
  },
});
await new Promise((r) => setTimeout(r, 1500));

say();
say(bold(`Registering ${specs.length} connectors (upstream publishes connector.registered)…`));
for (const s of specs) {
  await bus.producer.publish(newEvent('connector.registered', { spec: s.spec, autoPreflight: true }, {
    producer: 'demo@0.1.0', tenantId: 'demo', connectorId: s.connectorId, correlationId: randomUUID(), actor: 'system:demo-upstream',
  }));
  say(`  ${s.connectorId}  ${dim(`${s.spec.sourceType}, expected ${s.expect}`)}`);
}

const started = Date.now();
await waitFor('every preflight outcome', async () => {
  const line = specs.map((s) => {
    const o = outcomes.get(s.connectorId);
    return `${s.spec.name}: ${o ? (o.status === 'READY' ? green('READY') : red('FAILED')) : (seen.get(s.connectorId)?.at(-1) ?? 'registered')}`;
  }).join('  |  ');
  if (tty) process.stdout.write(`\r\x1b[2K  ⏳ ${((Date.now() - started) / 1000).toFixed(1)}s  ${line}`);
  return specs.every((s) => outcomes.has(s.connectorId));
}, { timeoutMs: 120_000, intervalMs: 200 }).catch(async (e: unknown) => {
  say();
  say(red(`Demo did not finish: ${(e as Error).message}. Service logs are in ${logs}.`));
  await shutdown(1);
});
if (tty) say();
await stopWatcher();

for (const s of specs) {
  const o = outcomes.get(s.connectorId)!;
  say();
  say(bold(`── receipt: ${s.connectorId} → ${o.status === 'READY' ? green('READY') : red('FAILED')} ──`));
  say(o.receiptYaml.trimEnd());
  const inc = incidents.get(s.connectorId);
  if (inc) say(red(`incident ${inc.incidentId} opened (${inc.kind}, severity ${inc.severity}): ${inc.summary} [sink: ${inc.delivery ?? 'none'}]`));
}

const apiUp = await portOpen(apiPort);
say();
say(bold('What to look at next'));
if (apiUp) {
  const token = await signDevToken({ sub: 'demo-admin', roles: ['platform_admin'], tenant: 'demo' }, process.env['PREFLIGHT_JWT_SECRET']);
  say(`  dashboard     http://127.0.0.1:${apiPort}/  — sign in with this development token (8 h):`);
  say(dim(`                ${token}`));
  say(`  API           http://127.0.0.1:${apiPort}/openapi.json  ·  Prometheus: http://127.0.0.1:${apiPort}/metrics`);
  say(`  CLI           npx preflight status  ·  npx preflight receipt ${specs[0]!.connectorId}  ·  npx preflight handshake ${specs[0]!.connectorId}`);
  say(`  agents        npx preflight mcp  (the same operations as MCP tools on stdio)`);
}
say(`  events        every connector.* topic on ${brokers}; schemas at ${registryUrl}/subjects`);
say(`  service logs  ${logs}`);

const ok = specs.every((s) => (outcomes.get(s.connectorId)?.status === 'READY') === s.expect.startsWith('READY'));
if (once) {
  say();
  say(ok ? green('Demo finished as expected.') : red('Demo outcomes differ from what was expected.'));
  await shutdown(ok ? 0 : 1);
}
say();
say(dim('The platform keeps running; press Ctrl-C to stop it.'));

