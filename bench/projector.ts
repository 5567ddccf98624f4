import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { newEvent, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { Projection, ProjectorRunner } from '@preflight/projector';
import { fmt, record, row } from './env.js';

/**
 * The projector's fold (consume + decode + evolve, batched) against raw kafkajs consuming the
 * same topics in the same run, over N events of a realistic mix (six per preflight attempt).
 */
export async function benchProjectorFold(opts: { brokers: string; registryUrl: string; events?: number }): Promise<void> {
  const n = opts.events ?? Number(process.env['BENCH_FOLD_EVENTS'] ?? 30_000);
  const logger = createLogger({ service: 'bench', level: 'error' });
  const prefix = `fold${randomBytes(4).toString('hex')}.`;
  const bus = createBus({ brokers: [opts.brokers], schemaRegistryUrl: opts.registryUrl, topicPrefix: prefix, clientId: 'bench-fold' }, logger);
  await bus.ensureTopics(6);
  await bus.producer.start();
  const s = sampleEvents();
  const strip = <T extends ConnectorEvent>(e: T): Omit<T, 'eventId' | 'eventType' | 'eventVersion' | 'occurredAt' | 'producer' | 'tenantId' | 'connectorId' | 'correlationId' | 'causationId' | 'idempotencyKey' | 'traceparent' | 'actor'> => {
    const { eventId: _a, eventType: _b, eventVersion: _c, occurredAt: _d, producer: _e, tenantId: _f, connectorId: _g, correlationId: _h, causationId: _i, idempotencyKey: _j, traceparent: _k, actor: _l, ...rest } = e;
    return rest;
  };
  const attempts = Math.ceil(n / 6);
  const events: ConnectorEvent[] = [];
  for (let i = 0; i < attempts; i++) {
    const ctx = { producer: 'bench@1', tenantId: `t${i % 7}`, connectorId: `c${i % 500}`, correlationId: `a${i}`, actor: 'system:bench' };
    events.push(
      newEvent('connector.registered', strip(s['connector.registered']), ctx),
      newEvent('connector.handshake', strip(s['connector.handshake']), ctx),
      newEvent('connector.schema.checked', strip(s['connector.schema.checked']), ctx),
      newEvent('connector.credentials.audited', strip(s['connector.credentials.audited']), ctx),
      newEvent('connector.incident.opened', strip(s['connector.incident.opened']), ctx),
      newEvent('connector.validated', strip(s['connector.validated']), ctx),
    );
  }
  // The fold alone, in memory: what evolving the state costs per event, apart from Kafka and Avro.
  // Best of three fresh projections: the first pass also pays for JIT warm-up, and on a shared
  // machine the quietest pass is the one closest to the code's own cost.
  let pureMs = Infinity;
  let pureCpuUs = Infinity;
  for (let round = 0; round < 3; round++) {
    const pure = new Projection();
    const cpu = process.cpuUsage();
    const p0 = performance.now();
    for (const e of events) pure.apply(e);
    pureMs = Math.min(pureMs, performance.now() - p0);
    const used = process.cpuUsage(cpu);
    pureCpuUs = Math.min(pureCpuUs, used.user + used.system);
  }
  for (let i = 0; i < events.length; i += 1000) await bus.producer.publish(...events.slice(i, i + 1000));
  const total = events.length;
  const topics = bus.topics.all();

  const kafka = new Kafka({ brokers: [opts.brokers], clientId: 'bench-raw-fold', logLevel: logLevel.NOTHING });
  const raw = kafka.consumer({ groupId: `${prefix}raw`, maxWaitTimeInMs: 100 });
  await raw.connect();
  await raw.subscribe({ topics, fromBeginning: true });
  let got = 0;
  let t0 = 0;
  const rawMs = await new Promise<number>((resolve) => {
    void raw.run({
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = performance.now();
        got += batch.messages.length;
        if (got >= total) resolve(performance.now() - t0);
      },
    });
  });
  await raw.disconnect();

  let f0 = 0;
  let done!: (ms: number) => void;
  const finished = new Promise<number>((r) => (done = r));
  const runner = new ProjectorRunner({
    bus,
    logger,
    snapshotEveryMs: 60_000,
    onApplied: () => {
      if (f0 === 0) f0 = performance.now();
      if (runner.projection.applied >= total) done(performance.now() - f0);
    },
  });
  await runner.start();
  const foldMs = await finished;
  await runner.stop();
  await bus.stop();

  const w = [34, 10, 14, 10];
  console.log(`\nprojector fold bench: ${fmt(total)} events (${fmt(attempts)} attempts, 500 connectors, 7 tenants), same topics, same run\n`);
  console.log(row(['', 'events', 'events/s', 'ratio'], w));
  console.log(row(['raw kafkajs consume (no decode)', total, fmt(total / (rawMs / 1000)), '1.00'], w));
  console.log(row(['projector fold (decode + evolve)', total, fmt(total / (foldMs / 1000)), fmt(rawMs / foldMs, 2)], w));
  console.log(row(['fold in memory (evolve only)', total, fmt(total / (pureMs / 1000)), `${fmt(pureCpuUs / total, 1)} µs`], w));
  record('projector_fold_per_s', total / (foldMs / 1000));
  record('projector_fold_in_memory_per_s', total / (pureMs / 1000));
  record('projector_fold_in_memory_cpu_us_per_event', pureCpuUs / total);
  record('raw_consume_fold_bench_per_s', total / (rawMs / 1000));
  record('projector_fold_over_raw_consume', rawMs / foldMs);
}
