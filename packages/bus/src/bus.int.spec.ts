import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { EVENT_TYPES, newEvent, sampleEvents, type ConnectorEvent, type ConnectorRegistered } from '@preflight/events';
import { collectRaw, eventually } from '@preflight/testkit';
import { testBus } from './testing/test-bus.js';
import { PreflightError } from '@preflight/core';
import type { Bus } from './index.js';
import { headerString } from './index.js';

const buses: Bus[] = [];
afterEach(async () => {
  while (buses.length) await buses.pop()!.stop();
});

async function newBus(partitions = 3): Promise<Bus> {
  const bus = await testBus({ partitions });
  buses.push(bus);
  return bus;
}

function registered(connectorId: string, seq: number): ConnectorRegistered {
  const sample = sampleEvents()['connector.registered'];
  return newEvent(
    'connector.registered',
    { spec: { ...sample.spec, labels: { seq: String(seq) } }, autoPreflight: false },
    { producer: 'test@1', tenantId: 't', connectorId, correlationId: `c-${connectorId}-${seq}`, actor: 'system:test' },
  );
}

describe('bus on a real broker and registry', () => {
  it('produces and consumes every event type end to end, with CloudEvents headers', async () => {
    const bus = await newBus();
    const samples = Object.values(sampleEvents({ connectorId: `c-${randomUUID()}` })).map((e) => ({ ...e, eventId: randomUUID() })) as ConnectorEvent[];
    const got: ConnectorEvent[] = [];
    const heads: Record<string, string | undefined>[] = [];
    const handlers = Object.fromEntries(
      EVENT_TYPES.map((t) => [
        t,
        async (e: ConnectorEvent, meta: { headers: Parameters<typeof headerString>[0] }) => {
          got.push(e);
          heads.push({ type: headerString(meta.headers, 'ce_type'), id: headerString(meta.headers, 'ce_id'), subject: headerString(meta.headers, 'ce_subject'), spec: headerString(meta.headers, 'ce_specversion') });
        },
      ]),
    );
    const consumer = bus.consumer({ groupId: `${bus.topics.prefix}g`, handlers });
    await consumer.start();
    await bus.producer.publish(...samples);
    await eventually('all samples consumed', () => got.length === samples.length);
    for (const s of samples) {
      const e = got.find((g) => g.eventId === s.eventId)!;
      expect(JSON.parse(JSON.stringify(e))).toEqual({ ...s, traceparent: s.traceparent });
    }
    expect(heads.every((h) => h.spec === '1.0' && h.type && h.id && h.subject)).toBe(true);
    expect(new Set(heads.map((h) => h.type))).toEqual(new Set(EVENT_TYPES));
  });

  it('keeps per-connector order across several partitions', async () => {
    const bus = await newBus(4);
    const connectors = Array.from({ length: 8 }, (_, i) => `conn-${i}`);
    const perConnector = 30;
    const seen = new Map<string, number[]>();
    const consumer = bus.consumer({
      groupId: `${bus.topics.prefix}g`,
      partitionsConsumedConcurrently: 4,
      handlers: {
        'connector.registered': async (e) => {
          const list = seen.get(e.connectorId) ?? [];
          list.push(Number(e.spec.labels['seq']));
          seen.set(e.connectorId, list);
        },
      },
    });
    await consumer.start();
    // Interleave connectors in each request, several requests, as real producers do.
    for (let seq = 0; seq < perConnector; seq += 10) {
      const batch: ConnectorEvent[] = [];
      for (let s = seq; s < seq + 10; s++) for (const c of connectors) batch.push(registered(c, s));
      await bus.producer.publish(...batch);
    }
    await eventually('all consumed', () => [...seen.values()].reduce((n, l) => n + l.length, 0) === connectors.length * perConnector);
    const partitionsUsed = new Set<number>();
    const raw = await collectRaw(bus.kafka, [bus.topics.of('connector.registered')]);
    await eventually('raw read', () => raw.records.length === connectors.length * perConnector);
    await raw.stop();
    for (const r of raw.records) partitionsUsed.add(r.partition);
    expect(partitionsUsed.size).toBeGreaterThan(1);
    for (const c of connectors) expect(seen.get(c)).toEqual(Array.from({ length: perConnector }, (_, i) => i));
  });

  it('names each record\'s partition as kafkajs\'s default partitioner would, so one connector\'s events share a partition number on every topic', async () => {
    // The producer names partitions itself (to see an acknowledgement that leaves one out,
    // acked.ts); readiness's co-partitioned assignment depends on them being what they were.
    const bus = await newBus(4);
    const connectors = Array.from({ length: 24 }, (_, i) => `conn-${i}`);
    const s = sampleEvents();
    await bus.producer.publish(...connectors.flatMap((c, i) => [registered(c, i), { ...s['connector.handshake.requested'], eventId: randomUUID(), connectorId: c }]));
    const topics = [bus.topics.of('connector.registered'), bus.topics.of('connector.handshake.requested')];
    const raw = await collectRaw(bus.kafka, topics);
    await eventually('raw read', () => raw.records.length === connectors.length * 2);
    await raw.stop();
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 4 }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
    for (const c of connectors) {
      const expected = partitioner({ topic: topics[0]!, partitionMetadata, message: { key: c, value: null } });
      const got = raw.records.filter((r) => r.message.key?.toString() === c).map((r) => r.partition);
      expect(got, c).toEqual([expected, expected]);
    }
    expect(new Set(raw.records.map((r) => r.partition)).size).toBe(4);
  });

  it('with keyConcurrency, handles different connectors of one partition at once and each connector strictly in order', async () => {
    const bus = await newBus(1);
    const connectors = Array.from({ length: 6 }, (_, i) => `kc-${i}`);
    const perConnector = 15;
    const seen = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    const runningByConnector = new Map<string, number>();
    let overlapWithinConnector = false;
    const consumer = bus.consumer({
      groupId: `${bus.topics.prefix}g`,
      keyConcurrency: 4,
      handlers: {
        'connector.registered': async (e) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          runningByConnector.set(e.connectorId, (runningByConnector.get(e.connectorId) ?? 0) + 1);
          if (runningByConnector.get(e.connectorId)! > 1) overlapWithinConnector = true;
          // Uneven work, so a later message of another connector often finishes first.
          await new Promise((r) => setTimeout(r, (Number(e.spec.labels['seq']) * 7 + e.connectorId.length * 3) % 13));
          seen.set(e.connectorId, [...(seen.get(e.connectorId) ?? []), Number(e.spec.labels['seq'])]);
          runningByConnector.set(e.connectorId, runningByConnector.get(e.connectorId)! - 1);
          running--;
        },
      },
    });
    const batch: ConnectorEvent[] = [];
    for (let s = 0; s < perConnector; s++) for (const c of connectors) batch.push(registered(c, s));
    await bus.producer.publish(...batch);
    await consumer.start();
    await eventually('all consumed', () => [...seen.values()].reduce((n, l) => n + l.length, 0) === batch.length);
    expect(maxRunning).toBeGreaterThan(1);
    expect(maxRunning).toBeLessThanOrEqual(4);
    expect(overlapWithinConnector).toBe(false);
    for (const c of connectors) expect(seen.get(c)).toEqual(Array.from({ length: perConnector }, (_, i) => i));
    // Everything handled is committed: a new member of the group has nothing left to read.
    await consumer.stop();
    const admin = bus.kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: `${bus.topics.prefix}g`, topics: [bus.topics.of('connector.registered')] });
    await admin.disconnect();
    expect(committed[0]!.partitions.map((p) => p.offset)).toEqual([String(batch.length)]);
  });

  it('gathers concurrent publishes into fewer requests, keeping issue order per connector, each resolving once acknowledged', async () => {
    const bus = await newBus(4);
    let produceRequests = 0;
    bus.producer.producer.on(bus.producer.producer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Produce') produceRequests++;
    });
    const connectors = Array.from({ length: 5 }, (_, i) => `conc-${i}`);
    const perConnector = 40;
    // Every call is issued before any is awaited, as handlers on several partitions do.
    const calls: Array<Promise<void>> = [];
    for (let s = 0; s < perConnector; s++) for (const c of connectors) calls.push(bus.producer.publish(registered(c, s)));
    await Promise.all(calls);
    expect(produceRequests).toBeGreaterThan(0);
    expect(produceRequests).toBeLessThan(calls.length / 4);

    // Resolved means written: the records are all there at once, in issue order per connector.
    const raw = await collectRaw(bus.kafka, [bus.topics.of('connector.registered')]);
    await eventually('raw read', () => raw.records.length === calls.length);
    await raw.stop();
    const seqs = new Map<string, number[]>();
    for (const r of raw.records) {
      const e = (await bus.codec.decode(r.message.value, 'connector.registered')) as ConnectorRegistered;
      seqs.set(e.connectorId, [...(seqs.get(e.connectorId) ?? []), Number(e.spec.labels['seq'])]);
    }
    for (const c of connectors) expect(seqs.get(c)).toEqual(Array.from({ length: perConnector }, (_, i) => i));
  });

  it('concurrent publishes from many event-loop turns (like API requests) arrive exactly once, each connector in call order, in few requests', async () => {
    const bus = await newBus(3);
    let produceRequests = 0;
    bus.producer.producer.on(bus.producer.producer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Produce') produceRequests++;
    });
    const connectors = Array.from({ length: 6 }, (_, i) => `turns-${i}`);
    const perConnector = 50;
    const issued = new Map<string, number>();
    const ids = new Set<string>();
    // Each publish is issued from its own timer or immediate, in an order no one planned; the
    // connector's sequence number is taken when the call is actually made.
    const calls = await new Promise<Array<Promise<void>>>((done) => {
      const out: Array<Promise<void>> = [];
      let n = 0;
      for (let i = 0; i < connectors.length * perConnector; i++) {
        const c = connectors[(i * 7) % connectors.length]!;
        const go = (): void => {
          const seq = issued.get(c) ?? 0;
          issued.set(c, seq + 1);
          const e = registered(c, seq);
          ids.add(e.eventId);
          out.push(bus.producer.publish(e));
          if (++n === connectors.length * perConnector) done(out);
        };
        if (i % 3 === 0) setImmediate(go);
        else setTimeout(go, i % 5);
      }
    });
    await Promise.all(calls);
    expect(produceRequests).toBeLessThan(calls.length / 4);

    const raw = await collectRaw(bus.kafka, [bus.topics.of('connector.registered')]);
    await eventually('raw read', () => raw.records.length >= calls.length);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive with the rest
    await raw.stop();
    expect(raw.records).toHaveLength(calls.length);
    const seqs = new Map<string, number[]>();
    const seen = new Set<string>();
    for (const r of raw.records) {
      const e = (await bus.codec.decode(r.message.value, 'connector.registered')) as ConnectorRegistered;
      seen.add(e.eventId);
      seqs.set(e.connectorId, [...(seqs.get(e.connectorId) ?? []), Number(e.spec.labels['seq'])]);
    }
    expect(seen).toEqual(ids);
    for (const c of connectors) expect(seqs.get(c)).toEqual(Array.from({ length: perConnector }, (_, i) => i));
  });

  it('dead-letters garbage bytes, an unknown schema id and a non-retriable handler error; the rest is handled exactly once', async () => {
    const bus = await newBus(1);
    const topic = bus.topics.of('connector.registered');
    const handled: string[] = [];
    const dead: string[] = [];
    const consumer = bus.consumer({
      groupId: `${bus.topics.prefix}g`,
      onDeadLetter: ({ reason }) => dead.push(reason.code),
      handlers: {
        'connector.registered': async (e) => {
          if (e.connectorId === 'poison') throw new PreflightError('VALIDATION', 'config.port: must be a number', { retriable: false });
          handled.push(e.eventId);
        },
      },
    });
    await consumer.start();
    const good = [registered('a', 1), registered('b', 2), registered('c', 3)];
    const raw = bus.kafka.producer();
    await raw.connect();
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xfe]), Buffer.from('whatever')]);
    await bus.producer.publish(good[0]!);
    await raw.send({ topic, messages: [{ key: 'x', value: Buffer.from('not avro at all') }] });
    await bus.producer.publish(good[1]!, registered('poison', 9));
    await raw.send({ topic, messages: [{ key: 'y', value: unknownId }] });
    await bus.producer.publish(good[2]!);
    await raw.disconnect();
    await eventually('good handled and poison dead-lettered', () => handled.length === 3 && dead.length === 3);
    expect(handled).toEqual(good.map((g) => g.eventId));
    const dlq = await collectRaw(bus.kafka, [bus.topics.dlq(topic)]);
    await eventually('dlq read', () => dlq.records.length === 3);
    await dlq.stop();
    const reasons = dlq.records.map((r) => ({
      code: headerString(r.message.headers, 'dlq_error_code'),
      reason: headerString(r.message.headers, 'dlq_reason'),
      source: headerString(r.message.headers, 'dlq_source_topic'),
      offset: headerString(r.message.headers, 'dlq_source_offset'),
    }));
    expect(reasons.map((r) => r.code)).toEqual(['DECODE', 'VALIDATION', 'DECODE']);
    expect(reasons[0]!.reason).toMatch(/magic byte/);
    expect(reasons[1]!.reason).toMatch(/config\.port/);
    expect(reasons[2]!.reason).toMatch(/schema id 2147483646/);
    expect(reasons.every((r) => r.source === topic && r.offset !== undefined)).toBe(true);
    // Original bytes are kept.
    expect(dlq.records[0]!.message.value!.toString()).toBe('not avro at all');
    expect(dlq.records[2]!.message.value!.equals(unknownId)).toBe(true);
  });

  it('retries retriable handler errors with backoff, then succeeds once', async () => {
    const bus = await newBus(1);
    let calls = 0;
    const consumer = bus.consumer({
      groupId: `${bus.topics.prefix}g`,
      retry: { attempts: 5, initialMs: 20, maxMs: 100 },
      handlers: {
        'connector.registered': async () => {
          calls++;
          if (calls < 3) throw new PreflightError('CONNECTIVITY', 'source blinked');
        },
      },
    });
    await consumer.start();
    await bus.producer.publish(registered('r', 1));
    await eventually('handled', () => consumer.stats.handled === 1);
    expect(calls).toBe(3);
    expect(consumer.stats.retries).toBe(2);
    expect(consumer.stats.deadLettered).toBe(0);
  });

  it('a handler whose publish fails (the bus down) is retried past the retry budget, never dead-lettered', async () => {
    const bus = await newBus(1);
    let calls = 0;
    const consumer = bus.consumer({
      groupId: `${bus.topics.prefix}g`,
      retry: { attempts: 3, initialMs: 10, maxMs: 40 },
      handlers: {
        'connector.registered': async () => {
          calls++;
          if (calls < 7) throw new PreflightError('BUS', 'publishing 1 event(s) failed: The broker received an out of order sequence number', { retriable: true });
        },
      },
    });
    await consumer.start();
    await bus.producer.publish(registered('b', 1));
    await eventually('handled', () => consumer.stats.handled === 1);
    expect(calls).toBe(7);
    expect(consumer.stats.deadLettered).toBe(0);
  });

  it('skips a redelivered eventId (dedupe) so the side effect happens once', async () => {
    const bus = await newBus(1);
    const effects: string[] = [];
    const consumer = bus.consumer({ groupId: `${bus.topics.prefix}g`, handlers: { 'connector.registered': async (e) => void effects.push(e.eventId) } });
    await consumer.start();
    const e = registered('d', 1);
    await bus.producer.publish(e);
    await bus.producer.publish(e);
    await bus.producer.publish(registered('d', 2));
    await eventually('two handled, one duplicate', () => consumer.stats.handled === 2 && consumer.stats.duplicates === 1);
    expect(effects.filter((id) => id === e.eventId)).toHaveLength(1);
  });

  it('refuses to publish an event that does not match its schema, naming the field', async () => {
    const bus = await newBus(1);
    const bad = { ...registered('x', 1), autoPreflight: 'yes' } as unknown as ConnectorEvent;
    await expect(bus.producer.publish(bad)).rejects.toThrow(/autoPreflight/);
  });
});
