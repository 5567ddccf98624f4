import { describe, expect, it } from 'vitest';
import { createBus, readTopics } from '@preflight/bus';
import { newEvent, payloadOf, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { eventually, testBusConfig, testLogger } from '@preflight/testkit';
import { ProjectorRunner } from './runner.js';

const s = sampleEvents();

/** Per connector: a READY attempt, an update that preflights again and fails; every other one is then deregistered. */
function lifecycle(n: number): ConnectorEvent[] {
  const out: ConnectorEvent[] = [];
  for (let i = 0; i < n; i++) {
    const at = (sec: number): Date => new Date(Date.UTC(2026, 10, 22, 9, i, sec));
    const ctx = (corr: string, sec: number) => ({ producer: 't@1', tenantId: 'acme', connectorId: `c-${i}`, correlationId: corr, actor: 'user:x', occurredAt: at(sec) });
    out.push(newEvent('connector.registered', { spec: { ...s['connector.registered'].spec, name: `c-${i}` }, autoPreflight: true }, ctx(`a-${i}`, 0)));
    out.push(newEvent('connector.validated', { ...payloadOf(s['connector.validated']), status: 'READY', reason: null }, ctx(`a-${i}`, 1)));
    out.push(newEvent('connector.updated', { ...payloadOf(s['connector.updated']), spec: { ...s['connector.updated'].spec, name: `c-${i}` } }, ctx(`u-${i}`, 10)));
    out.push(newEvent('connector.handshake', { ...payloadOf(s['connector.handshake']), status: 'COMPLETED', error: null }, ctx(`u-${i}`, 11)));
    out.push(newEvent('connector.validated', { ...payloadOf(s['connector.validated']), status: 'FAILED', reason: 'SCHEMA_MISMATCH' }, ctx(`u-${i}`, 12)));
    if (i % 2 === 0) out.push(newEvent('connector.deregistered', { name: `c-${i}`, reason: 'gone' }, ctx(`r-${i}`, 20)));
  }
  return out;
}

describe('projector lifecycle on a real broker', () => {
  it('after redelivered updates and deregistrations the live state equals a rebuild from the log, survives a restart from the snapshot, and retired connectors are tombstoned', async () => {
    const bus = createBus(testBusConfig(), testLogger());
    await bus.ensureTopics(3);
    await bus.producer.start();
    const log = lifecycle(6);
    await bus.producer.publish(...log);
    // The lifecycle events again, the same events (same ids): a producer retry or a replay upstream.
    const again = log.filter((e) => e.eventType === 'connector.updated' || e.eventType === 'connector.deregistered');
    await bus.producer.publish(...again);

    const first = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 200 });
    await first.start();
    await eventually('all folded', () => first.projection.applied === log.length && Object.values(first.projection.offsets).reduce((n, o) => n + Number(o), 0) === log.length + again.length);
    const states = [...first.projection.connectors.values()].map((c) => `${c.connectorId}:${c.status}`).sort();
    expect(states).toEqual(['c-0:RETIRED', 'c-1:FAILED', 'c-2:RETIRED', 'c-3:FAILED', 'c-4:RETIRED', 'c-5:FAILED']);
    const rebuilt = await first.foldLog();
    expect(rebuilt.view()).toEqual(first.projection.view());
    await first.stop();

    // The state topic: each retired connector's live key ends in a tombstone, its state lives on under retired|<id>.
    const last = new Map<string, boolean>();
    await readTopics(bus.kafka, [bus.topics.state], (_t, _p, _o, value, key) => void last.set(key!.toString(), value !== null));
    for (const i of [0, 2, 4]) {
      expect(last.get(`c-${i}`)).toBe(false);
      expect(last.get(`retired|c-${i}`)).toBe(true);
    }
    for (const i of [1, 3, 5]) expect(last.get(`c-${i}`)).toBe(true);

    const second = new ProjectorRunner({ bus, logger: testLogger(), snapshotEveryMs: 200 });
    await second.start();
    expect(second.restoredFrom).toBe('snapshot');
    expect(second.projection.view()).toEqual(rebuilt.view());
    expect(second.projection.connectors.get('c-0')).toMatchObject({ status: 'RETIRED', retired: { reason: 'gone' }, lastReceipt: { status: 'FAILED' } });
    await second.stop();
    await bus.stop();
  });
});
