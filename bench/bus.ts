// npm run bench:bus — the project's bus against raw kafkajs, same broker, same run, same message
// count: produce and consume throughput, and one-hop latency (publish → handler) p50/p99.
import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { cloudEventHeaders, createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { newEvent, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { benchInfra, fmt, percentile, record, row, writeBenchJson } from './env.js';

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

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

// --- produce throughput ---
const busEvents = events(N, 'p');
const rawValues = busEvents.map((e) => ({ key: e.connectorId, value: Buffer.from(JSON.stringify(e)) }));
const busProduceMs = await time(async () => {
  for (let i = 0; i < N; i += BATCH) await bus.producer.publish(...busEvents.slice(i, i + BATCH));
});
const rawProduceMs = await time(async () => {
  for (let i = 0; i < N; i += BATCH) await rawProducer.send({ topic: rawTopic, acks: -1, messages: rawValues.slice(i, i + BATCH) });
});
// Where the produce gap comes from: the same raw kafkajs, plus the ten CloudEvents headers.
const rawHeaderValues = busEvents.map((e) => ({ key: e.connectorId, value: Buffer.from(JSON.stringify(e)), headers: cloudEventHeaders(e, 1) }));
const rawHeadersTopic = `${prefix}raw-headers`;
await admin.createTopics({ topics: [{ topic: rawHeadersTopic, numPartitions: 3 }], waitForLeaders: true });
const rawHeadersProduceMs = await time(async () => {
  for (let i = 0; i < N; i += BATCH) await rawProducer.send({ topic: rawHeadersTopic, acks: -1, messages: rawHeaderValues.slice(i, i + BATCH) });
});

// --- consume throughput (from the beginning of what was just produced) ---
async function busConsume(): Promise<number> {
  let n = 0;
  let t0 = 0;
  let resolve!: (ms: number) => void;
  const done = new Promise<number>((r) => (resolve = r));
  const c = bus.consumer({
    groupId: `${prefix}bench-consume`,
    partitionsConsumedConcurrently: 3,
    handlers: {
      'connector.registered': async () => {
        if (n === 0) t0 = performance.now();
        if (++n === N) resolve(performance.now() - t0);
      },
    },
  });
  await c.start();
  const ms = await done;
  await c.stop();
  return ms;
}
async function rawConsume(): Promise<number> {
  let n = 0;
  let t0 = 0;
  let resolve!: (ms: number) => void;
  const done = new Promise<number>((r) => (resolve = r));
  const c = kafka.consumer({ groupId: `${prefix}raw-consume`, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic: rawTopic, fromBeginning: true });
  await c.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ message }) => {
      if (n === 0) t0 = performance.now();
      JSON.parse(message.value!.toString());
      if (++n === N) resolve(performance.now() - t0);
    },
  });
  const ms = await done;
  await c.disconnect();
  return ms;
}
const busConsumeMs = await busConsume();
const rawConsumeMs = await rawConsume();

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

const rate = (ms: number): number => N / (ms / 1000);
const w = [28, 14, 14, 10];
console.log(`\nbus bench: ${fmt(N)} messages (batches of ${BATCH}), ${fmt(LAT_N)} latency round trips, 3 partitions, acks=all, idempotent`);
console.log('  bus = Avro in the Confluent wire format via the registry, CloudEvents headers, typed handlers, dedupe;');
console.log('  raw = kafkajs with JSON bytes, same broker, same run.\n');
console.log(row(['', 'bus', 'raw kafkajs', 'bus/raw'], w));
console.log(row(['produce (msgs/s)', fmt(rate(busProduceMs)), fmt(rate(rawProduceMs)), fmt(rate(busProduceMs) / rate(rawProduceMs), 2)], w));
console.log(row(['  raw + CloudEvents headers', '', fmt(rate(rawHeadersProduceMs)), fmt(rate(busProduceMs) / rate(rawHeadersProduceMs), 2)], w));
console.log(row(['consume (msgs/s)', fmt(rate(busConsumeMs)), fmt(rate(rawConsumeMs)), fmt(rate(busConsumeMs) / rate(rawConsumeMs), 2)], w));
console.log(row(['one-hop latency p50 (ms)', fmt(percentile(busLat, 50), 2), fmt(percentile(rawLat, 50), 2), fmt(percentile(busLat, 50) / percentile(rawLat, 50), 2)], w));
console.log(row(['one-hop latency p99 (ms)', fmt(percentile(busLat, 99), 2), fmt(percentile(rawLat, 99), 2), fmt(percentile(busLat, 99) / percentile(rawLat, 99), 2)], w));

record('bus_produce_per_s', rate(busProduceMs));
record('raw_produce_per_s', rate(rawProduceMs));
record('raw_headers_produce_per_s', rate(rawHeadersProduceMs));
record('bus_over_raw_produce', rate(busProduceMs) / rate(rawProduceMs));
record('raw_headers_over_raw_produce', rate(rawHeadersProduceMs) / rate(rawProduceMs));
record('bus_consume_per_s', rate(busConsumeMs));
record('raw_consume_per_s', rate(rawConsumeMs));
record('bus_over_raw_consume', rate(busConsumeMs) / rate(rawConsumeMs));
record('bus_latency_p50_ms', percentile(busLat, 50));
record('raw_latency_p50_ms', percentile(rawLat, 50));
record('bus_over_raw_latency_p50', percentile(busLat, 50) / percentile(rawLat, 50));
record('bus_latency_p99_ms', percentile(busLat, 99));
record('raw_latency_p99_ms', percentile(rawLat, 99));
writeBenchJson();

await rawProducer.disconnect();
await admin.disconnect();
await bus.stop();
await infra.stop();
