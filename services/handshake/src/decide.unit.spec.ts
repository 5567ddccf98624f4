import { describe, expect, it } from 'vitest';
import { sampleEvents } from '@preflight/events';
import { decideHandshake, shouldHandshake, type HandshakeOutcome } from './decide.js';

const requested = sampleEvents()['connector.handshake.requested'];
const registered = sampleEvents()['connector.registered'];
const base = { connectorVersion: '1.2.3', attempts: 1, durationMs: 10, audit: { 'source.host': 'db.example' } };

describe('decideHandshake', () => {
  it('reports a completed handshake with server facts, caused by the request', () => {
    const ok: HandshakeOutcome = { ...base, ok: true, serverVersion: 'PostgreSQL 15', tls: { enabled: true, protocol: 'TLSv1.3' }, latencyMs: 2, principal: 'reader' };
    const [hs, ...rest] = decideHandshake(requested, ok);
    expect(rest).toEqual([]);
    expect(hs).toMatchObject({
      eventType: 'connector.handshake',
      status: 'COMPLETED',
      trigger: 'REQUESTED',
      operationId: requested.operationId,
      serverVersion: 'PostgreSQL 15',
      tls: { enabled: true, protocol: 'TLSv1.3', cipher: null },
      correlationId: requested.correlationId,
      causationId: requested.eventId,
      connectorId: requested.connectorId,
      audit: { 'source.host': 'db.example' },
    });
  });

  it('is deterministic: the same input yields the same eventId (redelivery → one outcome)', () => {
    const fail: HandshakeOutcome = { ...base, ok: false, error: { code: 'AUTH', message: 'password authentication failed', retriable: false } };
    expect(decideHandshake(registered, fail)[0]!.eventId).toBe(decideHandshake(registered, fail)[0]!.eventId);
  });

  it('raises an alert for connectivity errors, not for a bad password', () => {
    const refused: HandshakeOutcome = { ...base, ok: false, attempts: 3, error: { code: 'CONNECTIVITY', message: 'connection refused 127.0.0.1:1', retriable: true } };
    const events = decideHandshake(registered, refused);
    expect(events.map((e) => e.eventType)).toEqual(['connector.handshake', 'connector.alert.raised']);
    expect(events[1]).toMatchObject({ kind: 'CONNECTIVITY', severity: 'CRITICAL', errorCode: 'CONNECTIVITY', causationId: events[0]!.eventId });
    const auth: HandshakeOutcome = { ...base, ok: false, error: { code: 'AUTH', message: 'bad password', retriable: false } };
    expect(decideHandshake(registered, auth).map((e) => e.eventType)).toEqual(['connector.handshake']);
    expect(decideHandshake(registered, auth)[0]).toMatchObject({ status: 'FAILED', error: { code: 'AUTH' }, trigger: 'REGISTERED', operationId: null });
  });

  it('skips registrations that do not ask for a preflight', () => {
    expect(shouldHandshake({ ...registered, autoPreflight: false })).toBe(false);
    expect(shouldHandshake(registered)).toBe(true);
    expect(shouldHandshake(requested)).toBe(true);
  });
});
