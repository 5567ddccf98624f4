import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterId, ensureKafkaJars } from './kafka.js';
import { freePort, portOpen, waitFor } from './net.js';
import { dataRoot } from './paths.js';

export interface KafkaClusterOptions {
  /** Brokers, each also a KRaft controller (a quorum of `size`). */
  size?: number;
  dir?: string;
  heapMb?: number;
  log?: (line: string) => void;
}

export interface KafkaNode {
  id: number;
  port: number;
  /** The running JVM's pid, -1 while it is down. */
  pid(): number;
  running(): boolean;
  /** Sends a signal: SIGKILL to crash it, SIGSTOP/SIGCONT to freeze and thaw it. */
  signal(sig: NodeJS.Signals): void;
  /** Starts it again on its own data after a crash or stop, and waits until it serves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface KafkaCluster {
  brokers: string;
  nodes: KafkaNode[];
  dir: string;
  stop(): Promise<void>;
}

const LOG4J = ['log4j.rootLogger=WARN, stdout', 'log4j.appender.stdout=org.apache.log4j.ConsoleAppender', 'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout', 'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n', 'log4j.logger.kafka.server.KafkaRaftServer=INFO'].join('\n');

/**
 * A KRaft cluster of `size` combined broker+controller nodes on loopback, from the same Maven jars
 * as the single broker, with production-like durability: every internal topic has 3 copies and
 * min.insync.replicas=2, so one node may be down without losing an acknowledged write.
 */
export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const log = options.log ?? (() => {});
  const size = options.size ?? 3;
  const jars = await ensureKafkaJars(log);
  const dir = options.dir ?? join(dataRoot(), 'kafka-tmp', `${process.pid}-cluster-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const ports = await Promise.all(Array.from({ length: size * 2 }, () => freePort()));
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const voters = ids.map((id, i) => `${id}@127.0.0.1:${ports[size + i]}`).join(',');
  const rf = Math.min(3, size);
  const isr = Math.max(1, rf - 1);
  const cluster = clusterId();
  const log4jFile = join(dir, 'log4j.properties');
  writeFileSync(log4jFile, LOG4J);
  const jvm = (nodeDir: string): string[] => [`-Xms96m`, `-Xmx${options.heapMb ?? 384}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${log4jFile}`, `-Dkafka.logs.dir=${nodeDir}`, '-cp', `${jars}/*`];

  const nodes = ids.map((id, i): KafkaNode & { start(): Promise<void> } => {
    const port = ports[i]!;
    const nodeDir = join(dir, `node-${id}`);
    const props = join(nodeDir, 'server.properties');
    mkdirSync(nodeDir, { recursive: true });
    writeFileSync(
      props,
      [
        'process.roles=broker,controller',
        `node.id=${id}`,
        `controller.quorum.voters=${voters}`,
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${ports[size + i]}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${join(nodeDir, 'logs')}`,
        'auto.create.topics.enable=false',
        `default.replication.factor=${rf}`,
        `min.insync.replicas=${isr}`,
        `offsets.topic.replication.factor=${rf}`,
        'offsets.topic.num.partitions=4',
        `transaction.state.log.replication.factor=${rf}`,
        `transaction.state.log.min.isr=${isr}`,
        'transaction.state.log.num.partitions=4',
        'group.initial.rebalance.delay.ms=0',
        // A replica that stops fetching (a frozen broker) leaves the ISR after 10 s, not 30 s.
        'replica.lag.time.max.ms=10000',
        // The controller fences a broker it has not heard from in 5 s (default 9 s) and moves its
        // partitions' leadership: a killed or frozen broker's partitions take writes again sooner.
        'broker.session.timeout.ms=5000',
        'broker.heartbeat.interval.ms=1000',
        'log.segment.bytes=67108864',
        'log.cleaner.backoff.ms=1000',
        'num.network.threads=2',
        'num.io.threads=2',
        'delete.topic.enable=true',
      ].join('\n'),
    );
    const fmt = spawnSync('java', [...jvm(nodeDir), 'kafka.tools.StorageTool', 'format', `--cluster-id=${cluster}`, '-c', props], { encoding: 'utf8' });
    if (fmt.status !== 0) throw new Error(`kafka storage format failed for node ${id}: ${fmt.stdout}${fmt.stderr}`);
    let child: ChildProcess | undefined;
    let starts = 0;
    const alive = (): boolean => !!child && child.exitCode === null && child.signalCode === null;
    const start = async (): Promise<void> => {
      const outFile = join(nodeDir, `kafka-${++starts}.out`);
      const out = openSync(outFile, 'a');
      child = spawn('java', [...jvm(nodeDir), 'kafka.Kafka', props], { stdio: ['ignore', out, out] });
      closeSync(out);
      const c = child;
      await waitFor(`Kafka node ${id} on 127.0.0.1:${port}`, async () => {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`node ${id} exited: ${existsSync(outFile) ? readFileSync(outFile, 'utf8').slice(-2000) : ''}`);
        return (await portOpen(port)) && readFileSync(outFile, 'utf8').includes('started');
      }, { timeoutMs: 120_000, intervalMs: 250 });
    };
    return {
      id,
      port,
      pid: () => (alive() ? (child!.pid ?? -1) : -1),
      running: alive,
      signal: (sig) => {
        if (alive()) child!.kill(sig);
      },
      start,
      restart: async () => {
        if (alive()) throw new Error(`node ${id} is still running`);
        await start();
        log(`Kafka node ${id} restarted on 127.0.0.1:${port}`);
      },
      stop: async () => {
        if (!alive()) return;
        const c = child!;
        const gone = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGCONT');
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
        await gone;
        clearTimeout(t);
      },
    };
  });
  try {
    // The controllers need each other for a quorum: start them together.
    await Promise.all(nodes.map((n) => n.start()));
  } catch (e) {
    for (const n of nodes) n.signal('SIGKILL');
    throw e;
  }
  const brokers = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  log(`Kafka cluster of ${size} KRaft nodes on ${brokers} (replication ${rf}, min.insync ${isr})`);
  return {
    brokers,
    nodes,
    dir,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
