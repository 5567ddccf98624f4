import { describe, expect, it } from 'vitest';
import { createBus } from '@preflight/bus';
import { newEvent, sampleEvents, type ConnectorEvent } from '@preflight/events';
import { eventually, testBusConfig, testLogger } from '@preflight/testkit';
import { ProjectorRunner } from './runner.js';

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
});
