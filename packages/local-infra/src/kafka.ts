import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, portOpen, waitFor } from './net.js';
import type { TestPki } from './tls.js';
import { dataRoot, repoRoot } from './paths.js';

/** Pinned in infra/kafka/pom.xml; the jar name proves the cache holds that exact version. */
export const KAFKA_VERSION = '3.9.1';

export function kafkaJarDir(): string {
  return join(repoRoot(), 'infra', 'kafka', 'jars');
}

/**
 * Fetches the broker jars from Maven Central into a git-ignored cache, once. A lock directory keeps
 * two parallel callers (CI and a test run, say) from copying into the same folder at once.
 */
export async function ensureKafkaJars(log: (line: string) => void = () => {}): Promise<string> {
  const dir = kafkaJarDir();
  const marker = join(dir, `kafka_2.13-${KAFKA_VERSION}.jar`);
  if (existsSync(marker)) return dir;
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(marker)) return dir;
      if (Date.now() > deadline) throw new Error(`stale lock ${lock}; remove it and retry`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (existsSync(marker)) return dir;
    log(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (once)…`);
    const res = spawnSync(
      'mvn',
      ['-q', '-B', '-f', join(repoRoot(), 'infra', 'kafka', 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${dir}`, '-DincludeScope=runtime'],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
    if (res.status !== 0 || !existsSync(marker)) {
      throw new Error(`mvn could not fetch the Kafka jars (exit ${res.status}): ${(res.stdout + res.stderr).slice(-2000)}`);
    }
    return dir;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface KafkaOptions {
  port?: number;
  controllerPort?: number;
  /** Data and log folder; a fresh temporary one under .data/ when omitted. */
  dir?: string;
  /** Detach so the broker outlives this process (infra:up); tests keep it attached. */
  detached?: boolean;
  heapMb?: number;
  log?: (line: string) => void;
  /** Serve clients on SASL_SSL instead of PLAINTEXT (the production shape, for its tests). */
  saslSsl?: SaslSslOptions;
}

export interface ScramUser {
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  name: string;
  password: string;
}

export interface SaslSslOptions {
  /** The CA clients are checked against, and the broker's key + certificate chain (PEM). */
  pki: Pick<TestPki, 'caCert' | 'serverKeystore'>;
  /** Created at format time (`kafka-storage format --add-scram`), as KRaft clusters do it. */
  scramUsers: ScramUser[];
  /** PLAIN users (name → password), in the listener's JAAS config. */
  plainUsers?: Record<string, string>;
  /** `required`: clients must present a certificate the CA signed too (mutual TLS). */
  clientAuth?: 'required' | 'none';
}

export interface KafkaHandle {
  brokers: string;
  port: number;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * StorageTool wants a base64url UUID (16 bytes, 22 chars). One in 64 starts with '-', which its
 * argument parser takes for an option ("--cluster-id: expected one argument"): a random start
 * failure; so the id is passed as `--cluster-id=<id>`, and never starts with '-' either.
 */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(port: number, controllerPort: number, logDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    // Topics are declared as code and created explicitly; a typo must fail, not create a topic.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    // 50 offsets partitions make the first group join slow on a 2-core box; a handful is plenty.
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
    'log.cleaner.backoff.ms=1000',
    'num.network.threads=2',
    'num.io.threads=4',
    'delete.topic.enable=true',
  ].join('\n');
}

/**
 * Lines appended to server.properties (a later key wins) that turn the client listener into
 * SASL_SSL: SCRAM-SHA-256/512 and PLAIN, PEM key and trust stores, and the broker's own
 * inter-broker login as a SCRAM user made at format time, so nothing on the port is plaintext.
 */
function saslSslProperties(port: number, controllerPort: number, o: SaslSslOptions, broker: ScramUser): string {
  const jaasEscape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const plain = Object.entries(o.plainUsers ?? {}).map(([u, p]) => ` user_${u}="${jaasEscape(p)}"`).join('');
  const scramLogin = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${broker.name}" password="${jaasEscape(broker.password)}";`;
  return [
    '',
    `listeners=SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${port}`,
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN,OAUTHBEARER',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scramLogin}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scramLogin}`,
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required${plain};`,
    // Kafka's default OAUTHBEARER validator accepts unsigned tokens (alg none): enough to test a
    // client's token provider, never a production setting.
    'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="preflight-broker";',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${o.pki.serverKeystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${o.pki.caCert}`,
    // Since KIP-684 a SASL_SSL listener ignores the unprefixed ssl.client.auth.
    `listener.name.sasl_ssl.ssl.client.auth=${o.clientAuth ?? 'none'}`,
    'ssl.endpoint.identification.algorithm=https',
  ].join('\n');
}

const LOG4J = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.server.KafkaServer=INFO',
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
].join('\n');

/** What was written to `file` from byte `offset` on, at most 1 MiB of it (the broker's start-up lines are far less). */
function readSince(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, Math.min(statSync(file).size - offset, 1 << 20)));
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Starts a single-node KRaft broker+controller on 127.0.0.1 and waits until it answers. */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaHandle> {
  const log = options.log ?? (() => {});
  const jars = await ensureKafkaJars(log);
  const port = options.port ?? (await freePort());
  const controllerPort = options.controllerPort ?? (await freePort());
  const dir = options.dir ?? join(dataRoot(), 'kafka-tmp', `${process.pid}-${port}`);
  const logDir = join(dir, 'logs');
  mkdirSync(dir, { recursive: true });
  const propsFile = join(dir, 'server.properties');
  const log4jFile = join(dir, 'log4j.properties');
  // The broker's own SCRAM login (inter-broker), made at format time like the users'.
  const brokerUser: ScramUser = { mechanism: 'SCRAM-SHA-512', name: 'preflight-broker', password: randomBytes(12).toString('hex') };
  writeFileSync(propsFile, serverProperties(port, controllerPort, logDir) + (options.saslSsl ? saslSslProperties(port, controllerPort, options.saslSsl, brokerUser) : ''));
  writeFileSync(log4jFile, LOG4J);
  const heap = options.heapMb ?? 768;
  const jvm = [
    `-Xms128m`,
    `-Xmx${heap}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4jFile}`,
    `-Dkafka.logs.dir=${dir}`,
    '-cp',
    `${jars}/*`,
  ];
  const alreadyFormatted = existsSync(join(logDir, 'meta.properties'));
  if (!alreadyFormatted) {
    const scram = options.saslSsl ? [brokerUser, ...options.saslSsl.scramUsers].flatMap((u) => ['--add-scram', `${u.mechanism}=[name=${u.name},password=${u.password}]`]) : [];
    const fmt = spawnSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId()}`, '-c', propsFile, ...scram], {
      encoding: 'utf8',
    });
    if (fmt.status !== 0) throw new Error(`kafka storage format failed: ${fmt.stdout}${fmt.stderr}`);
  }
  const outFile = join(dir, 'kafka.out');
  // The log is appended to across restarts (infra:up): only this start's lines say it started,
  // and a long-lived log must not be read whole (636 MB after a day of DEBUG request logging).
  const startedAt = existsSync(outFile) ? statSync(outFile).size : 0;
  const out = openSync(outFile, 'a');
  const child: ChildProcess = spawn('java', [...jvm, 'kafka.Kafka', propsFile], {
    stdio: ['ignore', out, out],
    detached: options.detached ?? false,
  });
  closeSync(out);
  if (options.detached) child.unref();
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    await waitFor(`Kafka on 127.0.0.1:${port}`, async () => {
      if (exited) throw new Error('exited');
      return (await portOpen(port)) && readSince(outFile, startedAt).includes('started');
    }, { timeoutMs: 90_000, intervalMs: 250 });
  } catch (e) {
    child.kill('SIGKILL');
    const tail = existsSync(outFile) ? readSince(outFile, Math.max(startedAt, statSync(outFile).size - 3000)) : '';
    throw new Error(`Kafka did not start on port ${port}: ${(e as Error).message}\n${tail}`);
  }
  const pid = child.pid ?? -1;
  writeFileSync(join(dir, 'kafka.pid'), String(pid));
  log(`Kafka ${KAFKA_VERSION} (KRaft) listening on 127.0.0.1:${port}`);
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    dir,
    pid,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Removes temporary broker folders left by runs that were killed. */
export function cleanTmpKafka(): void {
  const root = join(dataRoot(), 'kafka-tmp');
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const pid = Number(name.split('-')[0]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(root, name), { recursive: true, force: true });
  }
}
