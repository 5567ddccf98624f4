import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { createBus, readTopics, type Bus } from '@preflight/bus';
import { newEvent, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { eventually, testBusConfig, testLogger } from '@preflight/testkit';
import { ProjectorRunner } from './runner.js';
import { startProjectorService } from './service.js';

const stateType = avro.Type.forSchema(JSON.parse(readFileSync(new URL('../../../schemas/state/connector-state.v1.avsc', import.meta.url), 'utf8')) as avro.Schema);

function events(n: number): ConnectorEvent[] {
  const s = sampleEvents();
  const out: ConnectorEvent[] = [];
  for (let i = 0; i < n; i++) {
    const ctx = { producer: 't@1', tenantId: i % 2 ? 'acme' : 'globex', connectorId: `c-${i}`, correlationId: `a-${i}`, actor: 'system:test', occurredAt: new Date(Date.UTC(2026, 10, 22, 9, 0, i)) };
    out.push(newEvent('connector.registered', { spec: { ...s['connector.registered'].spec, name: `c-${i}` }, autoPreflight: true }, ctx));
    out.push(newEvent('connector.handshake', { ...strip(s['connector.handshake']), status: 'COMPLETED', error: null }, { ...ctx, occurredAt: new Date(ctx.occurredAt.getTime() + 100) }));
    out.push(newEvent('connector.validated', { ...strip(s['connector.validated']), status: i % 3 ? 'READY' : 'FAILED', durationMs: 100 + i }, { ...ctx, occurredAt: new Date(ctx.occurredAt.getTime() + 200) }));
  }
  return out;
}

function strip<T extends ConnectorEvent>(e: T): any {
  const { eventId: _a, eventType: _b, eventVersion: _c, occurredAt: _d, producer: _e, tenantId: _f, connectorId: _g, correlationId: _h, causationId: _i, idempotencyKey: _j, traceparent: _k, actor: _l, ...rest } = e;
  return rest;
}

describe('projector on a real broker', () => {
  it('a restart restores state from the compacted snapshot without refolding the log, and a rebuild from the log gives the same state', async () => {
    const bus = createBus(testBusConfig(), testLogger());
    await bus.ensureTopics(3);
    await bus.producer.start();
    const batch = events(30);
    await bus.producer.publish(...batch);

    const first = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 200 });
    await first.start();
    await eventually('first fold', () => first.projection.applied === batch.length);
    expect(first.restoredFromSnapshot).toBe(false);
    const before = first.projection.view();
    await first.stop();

    const second = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 200 });
    await second.start();
    expect(second.restoredFromSnapshot).toBe(true);
    expect(second.projection.view()).toEqual(before);
    // New events after the restart are folded on top of the snapshot, and only those.
    const more = events(32).slice(90);
    await bus.producer.publish(...more);
    await eventually('new events folded', () => second.foldedSinceStart === more.length);
    expect(second.projection.connectors.size).toBe(32);

    const rebuilt = await second.foldLog();
    expect(rebuilt.view()).toEqual(second.projection.view());
    expect(rebuilt.applied).toBe(batch.length + more.length);
    await second.stop();
    await bus.stop();
  });

  it('a late retried snapshot send landing after a newer one does not win; an undecodable state record is dead-lettered and does not block start', async () => {
    const bus = createBus(testBusConfig(), testLogger());
    await bus.ensureTopics(3);
    await bus.producer.start();
    const batch = events(12);
    await bus.producer.publish(...batch.filter((e) => e.eventType !== 'connector.validated'));
    const first = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 60_000 });
    await first.start();
    await eventually('first fold', () => first.projection.applied === 24);
    await first.snapshot();
    const older = await stateRecords(bus);
    await bus.producer.publish(...batch.filter((e) => e.eventType === 'connector.validated'));
    await eventually('outcomes folded', () => first.projection.applied === 36);
    await first.stop();
    const before = first.projection.view();

    // The older snapshot's records land again after the newer ones (a send that was still retrying), then a poison record.
    const producer = bus.kafka.producer();
    await producer.connect();
    await producer.send({ topic: bus.topics.state, acks: -1, messages: older.map((r) => ({ key: r.key, value: r.value })) });
    await producer.send({ topic: bus.topics.state, acks: -1, messages: [{ key: 'c-1', value: Buffer.from([0, 0, 0, 0, 1, 0x7f, 0x7f]) }] });
    await producer.disconnect();

    const second = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 60_000 });
    await second.start();
    expect(second.skipped.stateRecords).toBe(1);
    expect(second.restoredFrom).toBe('snapshot');
    expect(second.foldedSinceStart).toBe(0);
    expect(second.projection.view()).toEqual(before);
    expect([...second.projection.connectors.values()].filter((c) => c.status === 'VALIDATING')).toEqual([]);
    const dlq = await readAll(bus, bus.topics.dlq(bus.topics.state));
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.headers).toMatchObject({ dlq_error_code: 'DECODE', dlq_source_topic: bus.topics.state });
    await second.stop();

    // A projection record that does not match the connector records (one compacted away behind a stale one) is not trusted: rebuild.
    const last = (await stateRecords(bus)).filter((r) => r.key?.toString() === '__projection__').at(-1)!;
    const rec = stateType.fromBuffer(last.value!.subarray(5)) as { stateJson: string };
    const json = JSON.parse(rec.stateJson) as { seq: number; digest: string };
    const forged = Buffer.concat([last.value!.subarray(0, 5), stateType.toBuffer({ ...rec, stateJson: JSON.stringify({ ...json, seq: json.seq + 1000, digest: 'other' }) })]);
    const producer2 = bus.kafka.producer();
    await producer2.connect();
    await producer2.send({ topic: bus.topics.state, acks: -1, messages: [{ key: last.key, value: forged }] });
    await producer2.disconnect();
    const rebuilt = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 60_000 });
    await rebuilt.start();
    expect(rebuilt.restoredFrom).toBe('rebuild');
    expect(rebuilt.projection.view()).toEqual(before);
    await rebuilt.stop();

    // A replica with its own name does not read the others' snapshot records: it folds the log.
    const third = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 60_000, instance: 'fresh' });
    await third.start();
    expect(third.restoredFrom).toBe('nothing');
    await eventually('replica folds the log', () => third.projection.applied === 36);
    expect(third.projection.view()).toEqual(before);
    await third.stop();
    await bus.stop();
  });

  it('/readyz answers 503 until the projection has caught up with the log end seen at start', async () => {
    const bus = createBus(testBusConfig(), testLogger());
    await bus.ensureTopics(3);
    await bus.producer.start();
    await bus.producer.publish(...events(10));
    // Poison on a topic no service consumes but the projector: it is dead-lettered under the projector's group, not skipped silently.
    const raw = bus.kafka.producer();
    await raw.connect();
    await raw.send({ topic: bus.topics.of('connector.alert.raised'), acks: -1, messages: [{ key: 'c-1', value: Buffer.from('not avro') }] });
    await raw.disconnect();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const svc = await startProjectorService({ bus, logger: testLogger(), http: { port: 0 }, auth: { mode: 'hs256', secret: 'x'.repeat(32) }, beforeBatch: () => gate });
    try {
      const first = await fetch(`${svc.url}/readyz`);
      expect(first.status).toBe(503);
      expect(await first.json()).toEqual({ status: 'catching up' });
      expect(svc.runner.caughtUp()).toBe(false);
      release();
      await eventually('ready', async () => (await fetch(`${svc.url}/readyz`)).status === 200);
      expect(svc.runner.projection.applied).toBe(30);
      expect(svc.runner.skipped.events).toBe(1);
      const dlq = await readAll(bus, bus.topics.dlq(bus.topics.of('connector.alert.raised')));
      expect(dlq.map((d) => d.headers['dlq_consumer_group'])).toEqual([`${bus.topics.prefix}preflight.projector`]);
    } finally {
      release();
      await svc.stop();
      await bus.stop();
    }
  });
});

async function stateRecords(bus: Bus): Promise<Array<{ key: Buffer | null; value: Buffer | null }>> {
  const out: Array<{ key: Buffer | null; value: Buffer | null }> = [];
  await readTopics(bus.kafka, [bus.topics.state], (_t, _p, _o, value, key) => void out.push({ key, value }));
  return out;
}

async function readAll(bus: Bus, topic: string): Promise<Array<{ headers: Record<string, string> }>> {
  const out: Array<{ headers: Record<string, string> }> = [];
  const consumer = bus.kafka.consumer({ groupId: `read-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push({ headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) }) });
  await eventually(`records on ${topic}`, () => out.length > 0);
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return out;
}
