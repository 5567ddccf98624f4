// npm run bench:rdkafka — librdkafka (@confluentinc/kafka-javascript, its KafkaJS-compatible API)
// against kafkajs on the same broker in the same run: produce with the CloudEvents headers the bus
// sends (acks=all, idempotent, batches of 500, keyed) and consume (eachMessage, and eachBatch for
// librdkafka), msgs/s and this process's CPU µs per message. Issue 14 asks for the comparison at
// equal guarantees before the bus could offer librdkafka as an option.
//
// The package is not a dependency of the platform: its install builds librdkafka from source.
// docs/performance.md ("librdkafka") has the recipe; RDKAFKA_MODULE names where it is installed.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Kafka, logLevel } from 'kafkajs';
import { benchInfra, fmt, record, row, writeBenchJson } from './env.js';

/** The slice of the KafkaJS-compatible API used here (the package's own types need it installed). */
interface RdProducer {
  connect(): Promise<void>;
  send(r: { topic: string; messages: Array<{ key: string; value: Buffer; headers: Record<string, string> }> }): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface RdConsumer {
  connect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(r: { partitionsConsumedConcurrently?: number; eachMessage?: () => Promise<void>; eachBatch?: (p: { batch: { messages: unknown[] } }) => Promise<void> }): Promise<void>;
  disconnect(): Promise<void>;
}
interface RdKafka {
  producer(c: Record<string, unknown>): RdProducer;
  consumer(c: Record<string, unknown>): RdConsumer;
}
interface RdModule {
  librdkafkaVersion: string;
  KafkaJS: { Kafka: new (c: Record<string, unknown>) => RdKafka; logLevel: { NOTHING: number } };
}

const require = createRequire(import.meta.url);
let rd: RdModule;
try {
  rd = require(process.env['RDKAFKA_MODULE'] ?? '@confluentinc/kafka-javascript') as RdModule;
} catch (e) {
  console.log(`@confluentinc/kafka-javascript is not installed (${(e as Error).message.split('\n')[0]}); see docs/performance.md, "librdkafka"`);
  process.exit(0);
}

const N = Number(process.env['BENCH_N'] ?? 20_000);
const BATCH = 500;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const infra = await benchInfra();
const value = Buffer.alloc(1500, 'x');
// The bus's CloudEvents binary-mode headers, by name and about their size.
const headers = Object.fromEntries(['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'ce_subject', 'content-type', 'traceparent', 'ce_tenantid', 'ce_correlationid'].map((k) => [k, `${k}-value-0123456789`]));
const kafka = new Kafka({ brokers: [infra.brokers], clientId: 'bench-cmp', logLevel: logLevel.NOTHING });
const rdKafka = (): RdKafka => new rd.KafkaJS.Kafka({ kafkaJS: { brokers: [infra.brokers], clientId: 'bench-cmp-rd', logLevel: rd.KafkaJS.logLevel.NOTHING } });
const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
interface Figure {
  rate: number;
  us: number;
}
const messages = (i: number, withHeaders: boolean) => Array.from({ length: BATCH }, (_, j) => ({ key: `k${(i + j) % 64}`, value, ...(withHeaders ? { headers } : {}) }));

async function timed(run: () => Promise<void>): Promise<Figure> {
  const c0 = cpu();
  const t0 = performance.now();
  await run();
  return { rate: N / ((performance.now() - t0) / 1000), us: (cpu() - c0) / N };
}

async function produceKafkajs(topic: string, withHeaders: boolean): Promise<Figure> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  const f = await timed(async () => {
    for (let i = 0; i < N; i += BATCH) await p.send({ topic, acks: -1, messages: messages(i, withHeaders) });
  });
  await p.disconnect();
  return f;
}

async function produceRd(topic: string): Promise<Figure> {
  const p = rdKafka().producer({ kafkaJS: { idempotent: true, acks: -1 }, 'linger.ms': 0 });
  await p.connect();
  const f = await timed(async () => {
    for (let i = 0; i < N; i += BATCH) await p.send({ topic, messages: messages(i, true) as Array<{ key: string; value: Buffer; headers: Record<string, string> }> });
  });
  await p.disconnect();
  return f;
}

/** Time and CPU from the first message to the N-th. */
function counter(): { add(n: number): void; done: Promise<Figure> } {
  let seen = 0;
  let t0 = 0;
  let c0 = 0;
  let finish!: (f: Figure) => void;
  const done = new Promise<Figure>((r) => (finish = r));
  return {
    add(n) {
      if (seen === 0) {
        t0 = performance.now();
        c0 = cpu();
      }
      seen += n;
      if (seen >= N) finish({ rate: N / ((performance.now() - t0) / 1000), us: (cpu() - c0) / N });
    },
    done,
  };
}

async function consumeKafkajs(topic: string): Promise<Figure> {
  const c = kafka.consumer({ groupId: `cmp-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const k = counter();
  await c.run({ eachMessage: async () => k.add(1) });
  const f = await k.done;
  await c.disconnect();
  return f;
}

async function consumeRd(topic: string, batch: boolean): Promise<Figure> {
  const c = rdKafka().consumer({ kafkaJS: { groupId: `cmp-${randomBytes(4).toString('hex')}`, fromBeginning: true }, ...(batch ? { 'js.consumer.max.batch.size': BATCH } : {}) });
  await c.connect();
  await c.subscribe({ topics: [topic] });
  const k = counter();
  if (batch) await c.run({ partitionsConsumedConcurrently: 3, eachBatch: async ({ batch: b }) => k.add(b.messages.length) });
  else await c.run({ eachMessage: async () => k.add(1) });
  const f = await k.done;
  await c.disconnect();
  return f;
}

const admin = kafka.admin();
await admin.connect();
const w = [40, 14, 12, 12];
console.log(`\nlibrdkafka ${rd.librdkafkaVersion} (@confluentinc/kafka-javascript, KafkaJS-compatible API) vs kafkajs: ${fmt(N)} messages of 1.5 kB, batches of ${BATCH}, acks=all, idempotent, 3 partitions\n`);
console.log(row(['', 'msgs/s', 'CPU µs/msg', 'vs kafkajs'], w));
for (let round = 0; round < ROUNDS; round++) {
  const [plain, withHeaders, viaRd] = ['plain', 'headers', 'rd'].map((x) => `cmp-${x}-${randomBytes(3).toString('hex')}`) as [string, string, string];
  await admin.createTopics({ topics: [plain, withHeaders, viaRd].map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
  const raw = await produceKafkajs(plain, false);
  const rawH = await produceKafkajs(withHeaders, true);
  const rdH = await produceRd(viaRd);
  const cK = await consumeKafkajs(withHeaders);
  const cR = await consumeRd(viaRd, false);
  const cB = await consumeRd(viaRd, true);
  console.log(`round ${round + 1}`);
  console.log(row(['produce, kafkajs, no headers', fmt(raw.rate), fmt(raw.us, 1), ''], w));
  console.log(row(['produce, kafkajs + headers', fmt(rawH.rate), fmt(rawH.us, 1), '1.00'], w));
  console.log(row(['produce, librdkafka + headers', fmt(rdH.rate), fmt(rdH.us, 1), fmt(rdH.rate / rawH.rate, 2)], w));
  console.log(row(['consume, kafkajs eachMessage', fmt(cK.rate), fmt(cK.us, 1), '1.00'], w));
  console.log(row(['consume, librdkafka eachMessage', fmt(cR.rate), fmt(cR.us, 1), fmt(cR.rate / cK.rate, 2)], w));
  console.log(row(['consume, librdkafka eachBatch', fmt(cB.rate), fmt(cB.us, 1), fmt(cB.rate / cK.rate, 2)], w));
  record(`r${round + 1}_rd_over_kafkajs_headers_produce`, rdH.rate / rawH.rate);
  record(`r${round + 1}_rd_headers_over_kafkajs_plain_produce`, rdH.rate / raw.rate);
  record(`r${round + 1}_rd_over_kafkajs_consume`, cR.rate / cK.rate);
  record(`r${round + 1}_rd_batch_over_kafkajs_consume`, cB.rate / cK.rate);
}
await admin.disconnect();
writeBenchJson();
await infra.stop();
process.exit(0);
