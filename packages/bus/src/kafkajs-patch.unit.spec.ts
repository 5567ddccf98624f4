import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The project patches two files of kafkajs (scripts/patch-deps.mjs, at install). Its record
// encoder, so a record's headers are written into the record's own encoder instead of one 512-byte
// encoder each: these tests hold that it writes exactly the bytes kafkajs's own encoding writes,
// built here from kafkajs's unpatched `Encoder` and header encoder the way its original record
// encoder did. And its `sendMessages`, so a failed attempt settles all of its broker requests
// before the retry starts (the last describe block).
const require = createRequire(import.meta.url);
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };
type Enc = { buffer: Buffer; writeVarInt(v: number): Enc; writeInt8(v: number): Enc; writeVarLong(v: number): Enc; writeVarIntBytes(v: unknown): Enc; writeVarIntArray(a: Enc[]): Enc };
type EncoderClass = { new (size?: number): Enc; sizeOfVarLong(v: number): number; sizeOfVarInt(v: number): number; sizeOfVarIntBytes(v: unknown): number };
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
const Header = require('kafkajs/src/protocol/recordBatch/header/v0') as (h: { key: string; value: unknown }) => Enc;
type RecordInput = { offsetDelta?: number; timestampDelta?: number; key: unknown; value: unknown; headers?: Record<string, unknown> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: RecordInput) => Enc;

/** kafkajs 2.2.4's record encoding, as its original `record/v0` wrote it. */
function original({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): Buffer {
  const list = Object.keys(headers).flatMap((k) => {
    const v = headers[k];
    return Array.isArray(v) ? v.map((x: unknown) => ({ key: k, value: x })) : [{ key: k, value: v }];
  });
  const body = new Encoder()
    .writeInt8(0)
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(list.map(Header)).buffer;
  return Buffer.concat([new Encoder().writeVarInt(body.length).buffer, body]);
}

const text = (n: number): string => {
  const alphabet = ['a', 'Z', '0', '-', 'é', '€', '𝄞', ' ', '"'];
  return Array.from({ length: n }, (_, i) => alphabet[(i * 7 + n) % alphabet.length]).join('');
};

describe('the patched kafkajs files', () => {
  it.each([
    ['kafkajs/src/protocol/recordBatch/record/v0', 'record-v0.js'],
    ['kafkajs/src/producer/sendMessages', 'send-messages.js'],
  ])('%s is the one installed', (module, patch) => {
    const installed = readFileSync(require.resolve(module), 'utf8');
    expect(installed).toBe(readFileSync(fileURLToPath(new URL(`../../../patches/kafkajs/${patch}`, import.meta.url)), 'utf8'));
  });
});

describe('the patched kafkajs record encoder', () => {

  it('writes the bytes kafkajs wrote for the bus\'s CloudEvents headers', () => {
    const headers = {
      ce_specversion: '1.0',
      ce_id: '0d2b7a2e-6f59-4e0b-9a8a-6c1f5e9d1c11',
      ce_source: 'urn:preflight:handshake',
      ce_type: 'connector.handshake',
      ce_time: '2026-12-03T02:00:00.000Z',
      ce_subject: 'acme/pg-orders',
      'content-type': 'application/avro',
      ce_tenantid: 'acme',
      ce_correlationid: 'corr-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const input = { offsetDelta: 17, timestampDelta: 3, key: 'acme/pg-orders', value: randomBytes(1500), headers };
    expect(Record(input).buffer.equals(original(input))).toBe(true);
  });

  it('writes the same bytes as kafkajs for any keys, values and headers', () => {
    for (let i = 0; i < 500; i++) {
      const headers: Record<string, unknown> = {};
      for (let h = 0; h < i % 13; h++) {
        const name = `h${h}${text(h % 5)}`;
        headers[name] = h % 4 === 0 ? randomBytes((i * h) % 300) : h % 4 === 1 ? [text(h), randomBytes(h), ''] : text((i + h * 31) % 700);
      }
      const input: RecordInput = {
        offsetDelta: (i * 7919) % 70_000,
        timestampDelta: (i * 104_729) % 5_000_000,
        key: i % 5 === 0 ? null : i % 2 ? text(i % 40) : randomBytes(i % 40),
        value: i % 11 === 0 ? null : i % 3 ? randomBytes((i * 37) % 5000) : text((i * 13) % 3000),
        headers,
      };
      expect(Record(input).buffer.equals(original(input)), `record ${i}`).toBe(true);
    }
  });
});

/** What kafkajs's sendMessages sees of a cluster: two brokers, partition leaders that move on a metadata refresh. */
function fakeCluster(leadersBefore: Record<number, number>, leadersAfter: Record<number, number>) {
  let leaders = leadersBefore;
  const writes: Array<{ broker: number; partition: number; firstSequence: number; count: number; at: number }> = [];
  const calls: Array<{ broker: number; at: number; settledAt?: number }> = [];
  const t0 = performance.now();
  const broker = (nodeId: number, failFirstAfterMs: number) => {
    let first = true;
    return {
      nodeId,
      async produce({ topicData }: { topicData: Array<{ partitions: Array<{ partition: number; firstSequence: number; messages: unknown[] }> }> }) {
        const call: { broker: number; at: number; settledAt?: number } = { broker: nodeId, at: performance.now() - t0 };
        calls.push(call);
        try {
          if (first) {
            first = false;
            await new Promise((r) => setTimeout(r, failFirstAfterMs));
            throw createErrorFromCode(6); // NOT_LEADER_OR_FOLLOWER, retriable
          }
          for (const t of topicData) for (const p of t.partitions) writes.push({ broker: nodeId, partition: p.partition, firstSequence: p.firstSequence, count: p.messages.length, at: performance.now() - t0 });
          return { topics: topicData.map(() => ({ topicName: 't', partitions: topicData.flatMap((x) => x.partitions).map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) })) };
        } finally {
          call.settledAt = performance.now() - t0;
        }
      },
    };
  };
  // Broker 2 refuses at once, broker 1 only after 60 ms: the slow one is still in flight when the first attempt has failed.
  const brokers = new Map([[1, broker(1, 60)], [2, broker(2, 1)]]);
  const cluster = {
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => void (leaders = leadersAfter),
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    removeBroker: () => {},
    findTopicPartitionMetadata: () => Object.keys(leadersBefore).map((p) => ({ partitionId: Number(p), leader: leaders[Number(p)] })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const out: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) (out[leaders[p]!] ??= []).push(p);
      return out;
    },
    findBroker: async ({ nodeId }: { nodeId: number | string }) => brokers.get(Number(nodeId))!,
  };
  const sequences = new Map<string, number>();
  const eosManager = {
    isTransactional: () => false,
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}:${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, n: number) => void sequences.set(`${topic}:${partition}`, (sequences.get(`${topic}:${partition}`) ?? 0) + n),
    acquireBrokerLock: async () => {},
    releaseBrokerLock: async () => {},
  };
  return { cluster, eosManager, writes, calls, sequences };
}

describe('the patched kafkajs sendMessages', () => {
  type SendMessages = (o: object) => (r: { acks: number; timeout: number; topicMessages: Array<{ topic: string; messages: Array<{ partition: number; value: string }> }> }) => Promise<Array<{ partition: number }>>;
  const createSendMessages = require('kafkajs/src/producer/sendMessages') as SendMessages;
  const createRetry = require('kafkajs/src/retry') as (o: object) => unknown;
  const silent = { debug() {}, info() {}, warn() {}, error() {} };

  it('starts a retry only once every request of the failed attempt has settled, so each partition is written from the sequence the broker expects', async () => {
    // Partition 0 is led by broker 1 (slow to refuse), partition 1 by broker 2; after the refresh
    // both are led by broker 2. Unpatched, the retry wrote partition 0 to broker 2 with the
    // sequence numbers still taken by broker 1's request in flight (3 instead of 0).
    const f = fakeCluster({ 0: 1, 1: 2 }, { 0: 2, 1: 2 });
    const send = createSendMessages({ logger: silent, cluster: f.cluster, partitioner: ({ message }: { message: { partition: number } }) => message.partition, eosManager: f.eosManager, retrier: createRetry({ retries: 5, initialRetryTime: 5, maxRetryTime: 20 }) });
    const messages = [0, 0, 0, 1].map((partition, i) => ({ partition, value: `m${i}` }));
    const acks = await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: 't', messages }] });
    expect(acks.map((a) => a.partition).sort()).toEqual([0, 1]);
    expect(f.writes.map((w) => ({ partition: w.partition, firstSequence: w.firstSequence, count: w.count })).sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, firstSequence: 0, count: 3 },
      { partition: 1, firstSequence: 0, count: 1 },
    ]);
    expect(f.sequences).toEqual(new Map([['t:0', 3], ['t:1', 1]]));
    const firstAttempt = f.calls.filter((c) => c.at < 5);
    const retry = f.calls.filter((c) => c.at >= 5);
    expect(retry.length).toBeGreaterThan(0);
    for (const r of retry) for (const a of firstAttempt) expect(a.settledAt !== undefined && r.at >= a.settledAt, `retry at ${r.at.toFixed(1)} ms, first attempt to broker ${a.broker} settled at ${a.settledAt?.toFixed(1)} ms`).toBe(true);
  });
});
