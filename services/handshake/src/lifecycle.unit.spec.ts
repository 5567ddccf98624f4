import { describe, expect, it } from 'vitest';
import { PreflightError } from '@preflight/core';
import { testLogger } from '@preflight/testkit';
import { sampleEvents, UPDATE_AUDIT_KEY, type ConnectorDeregistered, type ConnectorEvent } from '@preflight/events';
import type { Scopes } from '@preflight/connectors';
import { handshakeHandlers } from './handler.js';

const samples = sampleEvents();

/** Handlers whose connector lookup records each call and fails with CONFIG: no source is reached. */
function handlers() {
  const published: ConnectorEvent[] = [];
  const looked: string[] = [];
  const retired = new Map<string, ConnectorDeregistered>();
  const h = handshakeHandlers({
    connectors: (t) => {
      looked.push(t);
      throw new PreflightError('CONFIG', `no module for ${t} in this test`, { retriable: false });
    },
    scopes: {} as Scopes,
    logger: testLogger(),
    publish: (...e) => {
      published.push(...e);
      return Promise.resolve();
    },
    retired,
  });
  const meta = {} as never;
  return { published, looked, retired, handle: (e: ConnectorEvent) => (h[e.eventType] as (e: ConnectorEvent, m: never) => Promise<void>)(e, meta) };
}

describe('handshake and the connector lifecycle', () => {
  it('refuses a preflight of a deregistered connector before any I/O, as a FAILED handshake naming who retired it and why', async () => {
    const t = handlers();
    await t.handle(samples['connector.deregistered']);
    await t.handle(samples['connector.handshake.requested']);
    expect(t.looked).toEqual([]);
    expect(t.published).toHaveLength(1);
    expect(t.published[0]).toMatchObject({ eventType: 'connector.handshake', status: 'FAILED', attempts: 0, operationId: 'op-1', error: { code: 'DEREGISTERED', retriable: false } });
    const hs = t.published[0] as Extract<ConnectorEvent, { eventType: 'connector.handshake' }>;
    expect(hs.error!.message).toContain('deregistered');
    expect(hs.error!.message).toContain('user:alice');
    expect(hs.error!.message).toContain('source decommissioned');
  });

  it('an update with autoPreflight starts a handshake of the new spec; one without does nothing; other connectors are not refused', async () => {
    const t = handlers();
    await t.handle({ ...samples['connector.updated'], autoPreflight: false });
    expect(t.published).toEqual([]);
    await t.handle(samples['connector.updated']);
    expect(t.looked).toEqual(['postgres']);
    expect(t.published[0]).toMatchObject({ eventType: 'connector.handshake', trigger: 'REQUESTED', correlationId: samples['connector.updated'].correlationId, error: { code: 'CONFIG' }, audit: { [UPDATE_AUDIT_KEY]: samples['connector.updated'].eventId } });
    await t.handle({ ...samples['connector.deregistered'], connectorId: 'someone-else' });
    await t.handle(samples['connector.handshake.requested']);
    expect(t.looked).toEqual(['postgres', 'postgres']);
  });

  it('keeps the first deregistration on record whatever order they arrive in', async () => {
    const t = handlers();
    const later = { ...samples['connector.deregistered'], eventId: 'b', occurredAt: '2030-01-01T00:00:00.000Z', actor: 'user:zed' };
    await t.handle(later);
    await t.handle(samples['connector.deregistered']);
    await t.handle(later);
    expect(t.retired.get('conn-1')?.actor).toBe('user:alice');
  });
});
