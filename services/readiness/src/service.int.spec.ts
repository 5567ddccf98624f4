import { describe, expect, it } from 'vitest';
import { createBus, readTopics, type Bus } from '@preflight/bus';
import { sampleEvents, type ConnectorValidated } from '@preflight/events';
import { eventually, testBusConfig, testLogger } from '@preflight/testkit';
import { PreflightError } from '@preflight/core';
import { startReadinessService } from './service.js';
import { evolve, type Attempt, type ReadinessInput } from './attempt.js';

/** One attempt's three passing check results, stamped now, on a non-production, non-PII connector. */
function inputs(correlationId: string): ReturnType<typeof pick> {
  return pick(sampleEvents({ correlationId, connectorId: `c-${correlationId}` }));
}
function pick(s: ReturnType<typeof sampleEvents>) {
  const spec = { ...s['connector.handshake'].spec, environment: 'staging' };
  return {
    handshake: { ...s['connector.handshake'], durationMs: 5.25, status: 'COMPLETED' as const, error: null, spec },
    schema: { ...s['connector.schema.checked'], status: 'PASS' as const, diff: [], checkpoint: { ...s['connector.schema.checked'].checkpoint!, success: true }, severity: null, error: null },
    credentials: { ...s['connector.credentials.audited'], status: 'PASS' as const, findings: [], error: null },
  };
}

const settings = { preflightTimeoutMs: 60_000, contractFacts: () => ({ id: 'orders', version: '1.0.0', pii: false }) };

/** A bus on fresh topics and the outcomes readiness publishes on it, as they arrive. */
async function busWatchingOutcomes(): Promise<{ bus: Bus; outcomes: ConnectorValidated[] }> {
  const bus = createBus(testBusConfig(), testLogger());
  await bus.ensureTopics(3);
  await bus.producer.start();
  const outcomes: ConnectorValidated[] = [];
  const watch = bus.consumer({ groupId: `${bus.topics.prefix}watch`, handlers: { 'connector.validated': async (e) => void outcomes.push(e) } });
  await watch.start();
  return { bus, outcomes };
}

describe('readiness on a real broker', () => {
  it('a restarted instance rebuilds the attempts still in flight from the log and decides each attempt exactly once', async () => {
    const { bus, outcomes } = await busWatchingOutcomes();

    const first = await startReadinessService({ bus, logger: testLogger(), settings, tickMs: 50 });
    // Attempt A finishes before the restart; attempt B has two of its three results.
    const a = inputs('att-a');
    const b = inputs('att-b');
    await bus.producer.publish(a.handshake, a.schema, a.credentials, b.handshake, b.schema);
    await eventually('A decided', () => outcomes.some((o) => o.correlationId === 'att-a'), { timeoutMs: 60_000 });
    // Decided and published, A is retained settled: its outcome and evidence, not the checks' events.
    await eventually('A settled', () => first.attempts.get('att-a')?.outcome === 'READY' && first.attempts.get('att-a')?.handshake === undefined);
    expect(first.attempts.get('att-a')?.evidence).toHaveLength(3);
    await eventually('B half seen', () => {
      const att = first.attempts.get('att-b');
      return Boolean(att?.handshake && att.schema);
    });
    await first.stop(); // commits B's two inputs: the new instance's group will not see them again

    const second = await startReadinessService({ bus, logger: testLogger(), settings, tickMs: 50 });
    const recovered = second.attempts.get('att-b');
    expect(recovered?.handshake?.eventId).toBe(b.handshake.eventId);
    expect(recovered?.schema?.eventId).toBe(b.schema.eventId);
    expect(recovered?.outcome).toBeUndefined();
    expect(second.attempts.get('att-a')?.outcome).toBe('READY');
    // Restored from its changelog alone, not by re-reading input topics, and equal to a rebuild
    // of the attempt from the inputs on the log.
    expect(second.recovery.inputRecords).toBe(0);
    expect(second.recovery.changelogRecords).toBeGreaterThan(0);
    let rebuilt: Attempt | undefined;
    await readTopics(bus.kafka, [bus.topics.of('connector.handshake'), bus.topics.of('connector.schema.checked')], async (topic, partition, offset, value) => {
      const e = (await bus.codec.decode(value, bus.topics.typeOf(topic)!)) as ReadinessInput;
      if (e.correlationId === 'att-b') rebuilt = evolve(rebuilt, e, `kafka://${topic}/${partition}/${offset}`);
    });
    expect(recovered).toEqual(rebuilt);

    await bus.producer.publish(b.credentials);
    const outcomeB = await eventually('B decided', () => outcomes.find((o) => o.correlationId === 'att-b'), { timeoutMs: 60_000 });
    expect(outcomeB.status).toBe('READY');
    // The receipt cites all three inputs, the two read before the restart included.
    const topicsCited = outcomeB.receipt.evidence.map((ref) => ref.split('/')[2]).sort();
    expect(topicsCited).toEqual([bus.topics.of('connector.credentials.audited'), bus.topics.of('connector.handshake'), bus.topics.of('connector.schema.checked')]);

    // Count the records on the topic itself (a consumer would hide a repeat by its eventId), after
    // giving a wrongly repeated decision time to show up.
    await new Promise((r) => setTimeout(r, 1_500));
    const written: string[] = [];
    await readTopics(bus.kafka, [bus.topics.of('connector.validated')], async (_t, _p, _o, value) => {
      written.push((await bus.codec.decode(value, 'connector.validated')).correlationId);
    });
    expect(written.sort()).toEqual(['att-a', 'att-b']);
    // One changelog record per input that changed the attempt; its own outcome folded back in
    // (consumed by then) changed nothing and wrote nothing, before or after the restart.
    const records = new Map<string, number>();
    await readTopics(bus.kafka, [bus.topics.attempts], async (_t, _p, _o, _v, key) => {
      const k = key?.toString() ?? '';
      records.set(k, (records.get(k) ?? 0) + 1);
    });
    expect(Object.fromEntries(records)).toEqual({ 'att-a': 3, 'att-b': 3 });
    await second.stop();
    await bus.stop();
  });

  it('a cancel request ends an attempt in flight FAILED/CANCELLED with exactly one outcome on the topic, whatever reports after it', async () => {
    const bus = createBus(testBusConfig(), testLogger());
    await bus.ensureTopics(3);
    await bus.producer.start();
    const readiness = await startReadinessService({ bus, logger: testLogger(), settings, tickMs: 50 });
    const c = inputs('att-c');
    const cancel = { ...sampleEvents({ correlationId: 'att-c', connectorId: 'c-att-c', actor: 'user:ada' })['connector.cancel.requested'] };
    await bus.producer.publish(c.handshake, cancel);
    await eventually('cancelled', () => readiness.attempts.get('att-c')?.outcome === 'FAILED', { timeoutMs: 60_000 });
    // The checks still running report afterwards; they must not produce a second outcome.
    await bus.producer.publish(c.schema, c.credentials);
    await new Promise((r) => setTimeout(r, 1_500));
    const written: Array<{ status: string; reason: string | null; validatedBy: string }> = [];
    await readTopics(bus.kafka, [bus.topics.of('connector.validated')], async (_t, _p, _o, value) => {
      const e = await bus.codec.decode(value, 'connector.validated');
      if (e.eventType === 'connector.validated' && e.correlationId === 'att-c') written.push({ status: e.status, reason: e.reason, validatedBy: e.validatedBy });
    });
    expect(written).toEqual([{ status: 'FAILED', reason: 'CANCELLED', validatedBy: 'user:ada (cancelled)' }]);
    await readiness.stop();
    await bus.stop();
  });

  it('a decision whose publish landed but was reported failed is published again unchanged, not decided anew', async () => {
    const bus = createBus(testBusConfig(), testLogger());
    await bus.ensureTopics(3);
    await bus.producer.start();
    // The broker writes the outcome and the answer is lost: the publish fails after landing.
    const publish = bus.producer.publish.bind(bus.producer);
    let lost = 0;
    bus.producer.publish = async (...events) => {
      await publish(...events);
      if (events.some((e) => e.eventType === 'connector.validated') && lost++ === 0) throw new PreflightError('BUS', 'publishing 1 event(s) failed: the answer was lost', { retriable: true });
    };
    const readiness = await startReadinessService({ bus, logger: testLogger(), settings, tickMs: 50 });
    const d = inputs('att-d');
    await bus.producer.publish(d.handshake, d.schema, d.credentials);
    await eventually('decided', () => readiness.attempts.get('att-d')?.outcome === 'READY' && lost >= 2, { timeoutMs: 60_000 });
    const written: string[] = [];
    await readTopics(bus.kafka, [bus.topics.of('connector.validated')], async (_t, _p, _o, value) => {
      const e = await bus.codec.decode(value, 'connector.validated');
      if (e.correlationId === 'att-d') written.push(JSON.stringify(e));
    });
    // Two records (the one that landed, the retry), one decision: the same payload, time and receipt.
    expect(written).toHaveLength(2);
    expect(written[1]).toBe(written[0]);
    await readiness.stop();
    await bus.stop();
  });

  it('two live instances: partitions that move to the other one after a clean stop arrive with their attempts rebuilt, none times out', async () => {
    const { bus, outcomes } = await busWatchingOutcomes();
    const a = await startReadinessService({ bus, logger: testLogger(), settings, tickMs: 50 });
    const b = await startReadinessService({ bus, logger: testLogger(), settings, tickMs: 50 });
    // Enough connectors to land on every partition, so both instances hold some.
    const all = Array.from({ length: 9 }, (_, i) => inputs(`mv-${i}`));
    await bus.producer.publish(...all.map((x) => x.handshake));
    await eventually('every handshake seen by one instance or the other', () => all.every((x) => a.attempts.get(x.handshake.correlationId)?.handshake || b.attempts.get(x.handshake.correlationId)?.handshake), { timeoutMs: 60_000 });
    const movedAway = all.filter((x) => a.attempts.get(x.handshake.correlationId)?.handshake).length;
    expect(movedAway).toBeGreaterThan(0);
    await a.stop(); // its partitions move to b, whose group never delivered it those handshakes
    await bus.producer.publish(...all.flatMap((x) => [x.schema, x.credentials]));
    await eventually('every attempt decided well before its timeout', () => all.every((x) => outcomes.some((o) => o.correlationId === x.handshake.correlationId)), { timeoutMs: 40_000 });
    expect(outcomes.filter((o) => o.correlationId.startsWith('mv-')).map((o) => o.status)).toEqual(all.map(() => 'READY'));
    await b.stop();
    await bus.stop();
  });
});
