// `npm run infra:up|infra:down` — the local Kafka broker and schema registry as background
// processes that outlive this command; `fetch` only downloads the Kafka jars (CI does it first).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, ensureKafkaJars, portOpen, repoRoot, startKafka, waitFor } from '@preflight/local-infra';

const kafkaPort = Number(process.env['KAFKA_PORT'] ?? 9092);
const controllerPort = Number(process.env['KAFKA_CONTROLLER_PORT'] ?? kafkaPort + 1);
const registryPort = Number(process.env['SCHEMA_REGISTRY_PORT'] ?? 8081);
const root = dataRoot();
const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function up(): Promise<void> {
  mkdirSync(root, { recursive: true });
  if (await portOpen(kafkaPort)) say(`Kafka already listening on 127.0.0.1:${kafkaPort}`);
  else await startKafka({ port: kafkaPort, controllerPort, dir: join(root, 'kafka'), detached: true, log: say });
  const brokers = `127.0.0.1:${kafkaPort}`;
  if (await portOpen(registryPort)) say(`schema registry already listening on 127.0.0.1:${registryPort}`);
  else {
    const logFile = join(root, 'schema-registry.log');
    const out = openSync(logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=preflight-source', join(repoRoot(), 'services/schema-registry/src/main.ts')], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_PORT: String(registryPort) },
    });
    child.unref();
    writeFileSync(join(root, 'schema-registry.pid'), String(child.pid));
    await waitFor(`schema registry on 127.0.0.1:${registryPort} (log: ${logFile})`, () => portOpen(registryPort), { timeoutMs: 60_000 });
  }
  say('');
  say(`KAFKA_BROKERS=${brokers}`);
  say(`SCHEMA_REGISTRY_URL=http://127.0.0.1:${registryPort}`);
}

function stopPid(file: string, name: string): void {
  if (!existsSync(file)) return say(`${name}: not running (no pid file)`);
  const pid = Number(readFileSync(file, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
    say(`${name}: stopped (pid ${pid})`);
  } catch {
    say(`${name}: was not running`);
  }
  rmSync(file, { force: true });
}

async function down(): Promise<void> {
  stopPid(join(root, 'schema-registry.pid'), 'schema registry');
  stopPid(join(root, 'kafka', 'kafka.pid'), 'Kafka');
  await waitFor('Kafka to stop', async () => !(await portOpen(kafkaPort)), { timeoutMs: 30_000 }).catch(() => say('Kafka still listening after 30 s'));
}

const cmd = process.argv[2];
if (cmd === 'up') await up();
else if (cmd === 'down') await down();
else if (cmd === 'fetch') say(`Kafka jars in ${await ensureKafkaJars(say)}`);
else {
  say('usage: tsx --conditions=preflight-source infra/cli.ts up|down|fetch');
  process.exit(2);
}
