// npm run bench:bus — the project's bus against raw kafkajs, same broker, same run, same message
// count: produce and consume throughput, and one-hop latency (publish → handler) p50/p99.
import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { cloudEventHeaders, createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { newEvent, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { benchInfra, fmt, percentile, record, row, writeBenchJson } from './env.js';
import { printTargets } from './targets.js';

const N = Number(process.env['BENCH_N'] ?? 20_000);
const LAT_N = Number(process.env['BENCH_LAT_N'] ?? 500);
const BATCH = 500;

const infra = await benchInfra();
const logger = createLogger({ service: 'bench', level: 'warn' });
const prefix = `bench${randomBytes(4).toString('hex')}.`;
const bus = createBus({ brokers: [infra.brokers], schemaRegistryUrl: infra.registryUrl, topicPrefix: prefix, clientId: 'bench' }, logger);
await bus.ensureTopics(3);
await bus.producer.start();
const sample = sampleEvents()['connector.registered'];
const events = (n: number, tag: string): ConnectorEvent[] =>
  Array.from({ length: n }, (_, i) => newEvent('connector.registered', { spec: sample.spec, autoPreflight: false }, { producer: 'bench@1', tenantId: 't', connectorId: `c${i % 64}`, correlationId: `${tag}-${i}`, actor: 'system:bench' }));

const kafka = new Kafka({ brokers: [infra.brokers], clientId: 'bench-raw', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const rawTopic = `${prefix}raw`;
await admin.createTopics({ topics: [{ topic: rawTopic, numPartitions: 3 }], waitForLeaders: true });
const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await rawProducer.connect();

/**
 * Wall time, and CPU time of this process per message: on a shared machine the wall figures
 * swing with the neighbours' load, the CPU cost of a message much less.
 */
interface Run {
  ms: number;
  cpuUsPerMsg: number;
  /** Offset commits sent per 1000 messages (consumers only). */
  commitsPer1000?: number;
}
async function time(fn: () => Promise<void>): Promise<Run> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - t, cpuUsPerMsg: (used.user + used.system) / N };
}
/** Counts a kafkajs consumer's OffsetCommit requests. */
function countCommits(c: { on: Consumer['on']; events: Consumer['events'] }): () => number {
  let commits = 0;
  c.on(c.events.REQUEST, ({ payload }) => {
    if (payload.apiName === 'OffsetCommit') commits++;
  });
  return () => commits;
}
/** Starts the clock and the CPU meter at the first message, stops both at the N-th. */
function meter(): { tick(): void; done: Promise<Run> } {
  let n = 0;
  let t0 = 0;
  let cpu: NodeJS.CpuUsage | undefined;
  let resolve!: (r: Run) => void;
  const done = new Promise<Run>((r) => (resolve = r));
  return {
    tick() {
      if (n === 0) {
        t0 = performance.now();
        cpu = process.cpuUsage();
      }
      if (++n === N) {
        const used = process.cpuUsage(cpu);
        resolve({ ms: performance.now() - t0, cpuUsPerMsg: (used.user + used.system) / N });
      }
    },
    done,
  };
}

// --- produce throughput ---
const busEvents = events(N, 'p');
const rawValues = busEvents.map((e) => ({ key: e.connectorId, value: Buffer.from(JSON.stringify(e)) }));
const busProduce = await time(async () => {
  for (let i = 0; i < N; i += BATCH) await bus.producer.publish(...busEvents.slice(i, i + BATCH));
});
const rawProduce = await time(async () => {
  for (let i = 0; i < N; i += BATCH) await rawProducer.send({ topic: rawTopic, acks: -1, messages: rawValues.slice(i, i + BATCH) });
});
// Where the produce gap comes from: the same raw kafkajs, plus the ten CloudEvents headers.
const rawHeaderValues = busEvents.map((e) => ({ key: e.connectorId, value: Buffer.from(JSON.stringify(e)), headers: cloudEventHeaders(e, 1) }));
const rawHeadersTopic = `${prefix}raw-headers`;
await admin.createTopics({ topics: [{ topic: rawHeadersTopic, numPartitions: 3 }], waitForLeaders: true });
const rawHeadersProduce = await time(async () => {
  for (let i = 0; i < N; i += BATCH) await rawProducer.send({ topic: rawHeadersTopic, acks: -1, messages: rawHeaderValues.slice(i, i + BATCH) });
});

// --- consume throughput (from the beginning of what was just produced) ---
async function busConsume(keyConcurrency: number): Promise<Run> {
  const m = meter();
  const c = bus.consumer({
    groupId: `${prefix}bench-consume-k${keyConcurrency}`,
    partitionsConsumedConcurrently: 3,
    keyConcurrency,
    handlers: {
      'connector.registered': async () => m.tick(),
    },
  });
  const commits = countCommits(c.consumer);
  await c.start();
  const run = await m.done;
  await c.stop();
  return { ...run, commitsPer1000: (1000 * commits()) / N };
}
async function rawConsume(): Promise<Run> {
  const m = meter();
  const c = kafka.consumer({ groupId: `${prefix}raw-consume`, maxWaitTimeInMs: 100 });
  const commits = countCommits(c);
  await c.connect();
  await c.subscribe({ topic: rawTopic, fromBeginning: true });
  await c.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ message }) => {
      JSON.parse(message.value!.toString());
      m.tick();
    },
  });
  const run = await m.done;
  await c.disconnect();
  return { ...run, commitsPer1000: (1000 * commits()) / N };
}
// In partition order (the default) and eight keys at once per partition (what the services run).
const busConsumeRun = await busConsume(1);
const busKeyConsume = await busConsume(8);
const rawConsumeRun = await rawConsume();

// --- one-hop latency: publish one message, wait for its handler, repeat ---
async function busLatency(): Promise<number[]> {
  const sent = new Map<string, number>();
  const lat: number[] = [];
  let waiter: (() => void) | undefined;
  const c = bus.consumer({
    groupId: `${prefix}bench-lat`,
    fromBeginning: false,
    handlers: {
      'connector.handshake.requested': async (e) => {
        const t = sent.get(e.eventId);
        if (t !== undefined) lat.push(performance.now() - t);
        waiter?.();
      },
    },
  });
  await c.start();
  await new Promise((r) => setTimeout(r, 1000));
  const s = sampleEvents()['connector.handshake.requested'];
  for (let i = 0; i < LAT_N; i++) {
    const e = { ...s, eventId: randomUUID(), connectorId: `c${i % 16}` };
    const got = new Promise<void>((r) => (waiter = r));
    sent.set(e.eventId, performance.now());
    await bus.producer.publish(e);
    await got;
  }
  await c.stop();
  return lat.sort((a, b) => a - b);
}
async function rawLatency(): Promise<number[]> {
  const topic = `${prefix}raw-lat`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const lat: number[] = [];
  const sent = new Map<string, number>();
  let waiter: (() => void) | undefined;
  const c = kafka.consumer({ groupId: `${prefix}raw-lat`, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: false });
  await c.run({
    eachMessage: async ({ message }) => {
      const id = message.headers?.['id']?.toString();
      const t = id ? sent.get(id) : undefined;
      if (t !== undefined) lat.push(performance.now() - t);
      waiter?.();
    },
  });
  await new Promise((r) => setTimeout(r, 1000));
  const value = Buffer.from(JSON.stringify(sampleEvents()['connector.handshake.requested']));
  for (let i = 0; i < LAT_N; i++) {
    const id = randomUUID();
    const got = new Promise<void>((r) => (waiter = r));
    sent.set(id, performance.now());
    await rawProducer.send({ topic, acks: -1, messages: [{ key: `c${i % 16}`, value, headers: { id } }] });
    await got;
  }
  await c.disconnect();
  return lat.sort((a, b) => a - b);
}
const busLat = await busLatency();
const rawLat = await rawLatency();

const rate = (r: Run): number => N / (r.ms / 1000);
const w = [30, 12, 12, 8, 10, 10, 10];
console.log(`\nbus bench: ${fmt(N)} messages (batches of ${BATCH}), ${fmt(LAT_N)} latency round trips, 3 partitions, acks=all, idempotent`);
console.log('  bus = Avro in the Confluent wire format via the registry, CloudEvents headers, typed handlers, dedupe;');
console.log('  raw = kafkajs with JSON bytes, same broker, same run. cpu = this process\'s CPU µs per message');
console.log('  (steadier than msgs/s on a shared machine); commits = offset commits per 1000 messages.\n');
console.log(row(['', 'bus', 'raw kafkajs', 'bus/raw', 'bus cpu', 'raw cpu', 'commits'], w));
const line = (name: string, bus: Run | undefined, raw: Run): void =>
  console.log(row([name, bus ? fmt(rate(bus)) : '', fmt(rate(raw)), bus ? fmt(rate(bus) / rate(raw), 2) : '', bus ? fmt(bus.cpuUsPerMsg, 1) : '', fmt(raw.cpuUsPerMsg, 1), bus?.commitsPer1000 !== undefined ? fmt(bus.commitsPer1000, 1) : ''], w));
line('produce (msgs/s)', busProduce, rawProduce);
line('  raw + CloudEvents headers', undefined, rawHeadersProduce);
console.log(row(['  bus / (raw + headers)', '', '', fmt(rate(busProduce) / rate(rawHeadersProduce), 2)], w));
line('consume, partition order', busConsumeRun, rawConsumeRun);
line('consume, 8 keys at once', busKeyConsume, rawConsumeRun);
console.log(row(['one-hop latency p50 (ms)', fmt(percentile(busLat, 50), 2), fmt(percentile(rawLat, 50), 2), fmt(percentile(busLat, 50) / percentile(rawLat, 50), 2)], w));
console.log(row(['one-hop latency p99 (ms)', fmt(percentile(busLat, 99), 2), fmt(percentile(rawLat, 99), 2), fmt(percentile(busLat, 99) / percentile(rawLat, 99), 2)], w));

record('bus_produce_per_s', rate(busProduce));
record('raw_produce_per_s', rate(rawProduce));
record('raw_headers_produce_per_s', rate(rawHeadersProduce));
record('bus_over_raw_produce', rate(busProduce) / rate(rawProduce));
record('raw_headers_over_raw_produce', rate(rawHeadersProduce) / rate(rawProduce));
record('bus_over_raw_headers_produce', rate(busProduce) / rate(rawHeadersProduce));
record('bus_produce_cpu_us_per_msg', busProduce.cpuUsPerMsg);
record('raw_produce_cpu_us_per_msg', rawProduce.cpuUsPerMsg);
record('raw_headers_produce_cpu_us_per_msg', rawHeadersProduce.cpuUsPerMsg);
record('bus_consume_per_s', rate(busConsumeRun));
record('raw_consume_per_s', rate(rawConsumeRun));
record('bus_over_raw_consume', rate(busConsumeRun) / rate(rawConsumeRun));
record('bus_consume_cpu_us_per_msg', busConsumeRun.cpuUsPerMsg);
record('raw_consume_cpu_us_per_msg', rawConsumeRun.cpuUsPerMsg);
record('bus_consume_commits_per_1000', busConsumeRun.commitsPer1000 ?? NaN);
record('raw_consume_commits_per_1000', rawConsumeRun.commitsPer1000 ?? NaN);
record('bus_key8_consume_per_s', rate(busKeyConsume));
record('bus_key8_over_raw_consume', rate(busKeyConsume) / rate(rawConsumeRun));
record('bus_key8_consume_cpu_us_per_msg', busKeyConsume.cpuUsPerMsg);
record('bus_key8_consume_commits_per_1000', busKeyConsume.commitsPer1000 ?? NaN);
record('bus_latency_p50_ms', percentile(busLat, 50));
record('raw_latency_p50_ms', percentile(rawLat, 50));
record('bus_over_raw_latency_p50', percentile(busLat, 50) / percentile(rawLat, 50));
record('bus_latency_p99_ms', percentile(busLat, 99));
record('raw_latency_p99_ms', percentile(rawLat, 99));
printTargets();
writeBenchJson();

await rawProducer.disconnect();
await admin.disconnect();
await bus.stop();
await infra.stop();
