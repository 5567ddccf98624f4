import { describe, expect, it } from 'vitest';
import { newEvent, payloadOf, sampleEvents, type ConnectorEvent, type EventContext } from '@preflight/events';
import { Projection } from './projection.js';
import { evolveConnector, type ConnectorState } from './state.js';

const samples = sampleEvents();
const spec = samples['connector.registered'].spec;
const changelog = samples['connector.updated'].changelog;
const ctx = (corr: string, sec: number, over: Partial<EventContext> = {}): EventContext => ({ producer: 't@1', tenantId: 'acme', connectorId: 'acme.crm', correlationId: corr, actor: 'user:x', occurredAt: new Date(Date.UTC(2026, 10, 22, 10, 0, sec)), ...over });

/** One attempt's results, all passing or the schema check failing. */
function attempt(corr: string, sec: number, status: 'READY' | 'FAILED'): ConnectorEvent[] {
  const s = samples;
  return [
    newEvent('connector.handshake', { ...payloadOf(s['connector.handshake']), status: 'COMPLETED', error: null }, ctx(corr, sec + 1)),
    newEvent('connector.schema.checked', { ...payloadOf(s['connector.schema.checked']), status: status === 'READY' ? 'PASS' : 'FAIL' }, ctx(corr, sec + 2)),
    newEvent('connector.validated', { ...payloadOf(s['connector.validated']), status, reason: status === 'READY' ? null : 'QUALITY' }, ctx(corr, sec + 3)),
  ];
}


const registered = (autoPreflight = true): ConnectorEvent => newEvent('connector.registered', { spec, autoPreflight }, ctx('a1', 0));
const updated = (corr: string, sec: number, autoPreflight: boolean): ConnectorEvent =>
  newEvent('connector.updated', { spec: { ...spec, contractYaml: 'apiVersion: v3.0.2\nkind: DataContract\nid: erp-orders\nversion: 2.0.0\nstatus: active\nschema: []\n' }, changed: ['contract'], changelog, reason: 'tier moved', autoPreflight }, ctx(corr, sec, { actor: 'user:bob' }));
// Another name than the spec's: the spec names the connector, whichever of the two arrives first.
const deregistered = (sec: number): ConnectorEvent => newEvent('connector.deregistered', { name: 'as-the-deregistering-system-knew-it', reason: 'source decommissioned' }, ctx(`retire-${sec}`, sec, { actor: 'user:carol' }));

const fold = (events: ConnectorEvent[]): ConnectorState => events.reduce<ConnectorState | undefined>((c, e) => evolveConnector(c, e), undefined)!;

describe('lifecycle: update and deregister in the connector state', () => {
  it('an update without autoPreflight sends a READY connector back to REGISTERED with the classified changelog; the next preflight decides again', () => {
    const ready = fold([registered(), ...attempt('a1', 0, 'READY')]);
    expect(ready.status).toBe('READY');
    const changed = evolveConnector(ready, updated('u1', 10, false));
    expect(changed.status).toBe('REGISTERED');
    expect(changed.lastChange).toMatchObject({ actor: 'user:bob', reason: 'tier moved', changed: ['contract'], attemptId: null, changelog: { from: '1.0.0', to: '2.0.0', breaking: true } });
    expect(changed.spec.contractYaml).toContain('version: 2.0.0');
    // The old READY receipt stays readable as history, but does not stand.
    expect(changed.lastReceipt?.status).toBe('READY');
    let c = evolveConnector(changed, newEvent('connector.handshake.requested', { spec: changed.spec, operationId: null, reason: null }, ctx('a2', 20)));
    expect(c.status).toBe('HANDSHAKING');
    for (const e of attempt('a2', 20, 'READY')) c = evolveConnector(c, e);
    expect(c.status).toBe('READY');
  });

  it('an update with autoPreflight starts its own attempt; an attempt that started before the update cannot make it READY', () => {
    let c = fold([registered(), attempt('a1', 0, 'READY')[0]!]);
    expect(c.status).toBe('VALIDATING');
    c = evolveConnector(c, updated('u1', 2, true));
    expect(c.status).toBe('HANDSHAKING');
    expect(c.lastAttemptId).toBe('u1');
    // The outcome of the attempt on the old spec arrives late.
    for (const e of attempt('a1', 0, 'READY').slice(1)) c = evolveConnector(c, e);
    expect(c.status).toBe('HANDSHAKING');
    for (const e of attempt('u1', 2, 'FAILED')) c = evolveConnector(c, e);
    expect(c.status).toBe('FAILED');
    expect(c.lastReceipt?.attemptId).toBe('u1');
  });

  it('a deregistered connector is RETIRED for good: later results do not revive it, its history and receipts stay', () => {
    let c = fold([registered(), ...attempt('a1', 0, 'READY'), deregistered(10)]);
    expect(c.status).toBe('RETIRED');
    expect(c.retired).toMatchObject({ actor: 'user:carol', reason: 'source decommissioned' });
    expect(c.lastReceipt?.status).toBe('READY');
    expect(c.history.map((h) => h.eventType)).toContain('connector.deregistered');
    c = evolveConnector(c, newEvent('connector.handshake.requested', { spec, operationId: null, reason: null }, ctx('a3', 20)));
    for (const e of attempt('a3', 20, 'READY')) c = evolveConnector(c, e);
    expect(c.status).toBe('RETIRED');
    expect(c.pendingApproval).toBeNull();
    // A later deregistration does not rewrite who retired it.
    c = evolveConnector(c, newEvent('connector.deregistered', { name: spec.name, reason: 'again' }, ctx('r2', 30, { actor: 'user:dave' })));
    expect(c.retired?.actor).toBe('user:carol');
  });

  it('state never goes backwards: any arrival order, with update and deregister redelivered, equals a fold of the log in time order', () => {
    const log = [registered(), ...attempt('a1', 0, 'READY'), updated('u1', 10, true), ...attempt('u1', 10, 'FAILED'), updated('u2', 20, false), deregistered(30)];
    const rebuilt = new Projection();
    for (const e of [...log].sort((x, y) => x.occurredAt.localeCompare(y.occurredAt) || x.eventId.localeCompare(y.eventId))) rebuilt.apply(e);
    expect(rebuilt.connectors.get('acme.crm')?.status).toBe('RETIRED');
    // A seeded shuffle per round, with the lifecycle events delivered again at random places.
    let seed = 7;
    const rand = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let round = 0; round < 25; round++) {
      const redelivered = [...log, log[4]!, log[8]!, log[9]!];
      for (let i = redelivered.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [redelivered[i], redelivered[j]] = [redelivered[j]!, redelivered[i]!];
      }
      const live = new Projection();
      for (const e of redelivered) live.apply(e);
      expect(live.view()).toEqual(rebuilt.view());
      // And a snapshot taken mid-way resumes to the same place.
      const half = new Projection();
      redelivered.slice(0, 6).forEach((e) => half.apply(e));
      const resumed = Projection.fromSnapshot(JSON.parse(JSON.stringify(half.toSnapshot())));
      redelivered.slice(6).forEach((e) => resumed.apply(e));
      expect(resumed.view()).toEqual(rebuilt.view());
    }
  });

  it('counts retired connectors under their own state', () => {
    const p = new Projection();
    for (const e of [registered(), ...attempt('a1', 0, 'READY'), deregistered(10)]) p.apply(e);
    expect(p.metrics().connectors_by_state).toMatchObject({ READY: 0, RETIRED: 1 });
  });
});
