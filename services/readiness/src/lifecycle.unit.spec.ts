import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sampleEvents, UPDATE_AUDIT_KEY, type ConnectorEvent } from '@preflight/events';
import { evolve, foldsInto, type Attempt, type ReadinessInput } from './attempt.js';
import { decide, type ReadinessSettings } from './decide.js';
import { DEFAULT_APPROVAL_POLICY } from './policy.js';

const s = sampleEvents({ correlationId: 'att-1', connectorId: 'c-1' });
const t0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (ms: number): Date => new Date(t0 + ms);
// Without contract facts on the handshake, so the settings' contractFacts below speak for the contract.
const withEnv = (environment: string) => ({ ...s['connector.handshake'], occurredAt: at(10).toISOString(), durationMs: 0, status: 'COMPLETED' as const, error: null, spec: { ...s['connector.handshake'].spec, environment }, contractFacts: null });
const schemaPass = { ...s['connector.schema.checked'], occurredAt: at(100).toISOString(), status: 'PASS' as const, diff: [], checkpoint: { ...s['connector.schema.checked'].checkpoint!, success: true }, severity: null, error: null };
const credsPass = { ...s['connector.credentials.audited'], occurredAt: at(120).toISOString(), status: 'PASS' as const, findings: [], error: null };
const update = (breaking: boolean) => ({ ...s['connector.updated'], occurredAt: at(0).toISOString(), changelog: { ...s['connector.updated'].changelog!, breaking, changes: s['connector.updated'].changelog!.changes.map((c) => ({ ...c, breaking })) } });
const settings: ReadinessSettings = { preflightTimeoutMs: 5_000, approvalTimeoutMs: 60_000, policy: DEFAULT_APPROVAL_POLICY, contractFacts: () => ({ id: 'erp-orders', version: '2.0.0', pii: false }) };

const fold = (events: ReadinessInput[]): Attempt => events.reduce<Attempt | undefined>((a, e, i) => evolve(a, e, `kafka://${e.eventType}/0/${i}`), undefined)!;
const validated = (events: ConnectorEvent[]) => events.find((e): e is Extract<ConnectorEvent, { eventType: 'connector.validated' }> => e.eventType === 'connector.validated');

describe('readiness and connector updates', () => {
  it('the receipt of the attempt an update started shows who changed what and the classified contract changes', () => {
    const { events } = decide(fold([update(false), withEnv('staging'), schemaPass, credsPass]), at(200), settings);
    const v = validated(events)!;
    expect(v.status).toBe('READY');
    const receipt = parse(v.receiptYaml) as { contract_change: Record<string, unknown>; evidence: string[] };
    expect(receipt.contract_change).toMatchObject({ changed: ['contract'], by: 'user:alice', reason: 'loyalty tiers moved to another system', from_version: '1.0.0', to_version: '2.0.0', breaking: false });
    expect(receipt.contract_change['changes']).toEqual([{ path: 'customers.loyalty_tier', kind: 'FIELD_REMOVED', breaking: false, detail: 'customers.loyalty_tier was removed' }]);
    expect(receipt.evidence).toContain('kafka://connector.updated/0/0');
  });

  it('a breaking contract change in production needs a security admin\'s approval; elsewhere, or not breaking, it does not', () => {
    const prod = decide(fold([update(true), withEnv('production'), schemaPass, credsPass]), at(200), settings);
    expect(validated(prod.events)).toBeUndefined();
    expect(prod.events[0]).toMatchObject({ eventType: 'connector.approval.requested', policy: 'breaking-change-in-production', requiredRole: 'security_admin' });
    expect(validated(decide(fold([update(false), withEnv('production'), schemaPass, credsPass]), at(200), settings).events)?.status).toBe('READY');
    expect(validated(decide(fold([update(true), withEnv('staging'), schemaPass, credsPass]), at(200), settings).events)?.status).toBe('READY');
    // An attempt no update started has no changelog in its receipt.
    const plain = validated(decide(fold([withEnv('production'), schemaPass, credsPass]), at(200), settings).events)!;
    expect((parse(plain.receiptYaml) as Record<string, unknown>)['contract_change']).toBeNull();
  });

  it('an attempt an update started waits for that update, whichever topic delivers first, so the policy cannot be skipped', () => {
    const started = { ...withEnv('production'), audit: { [UPDATE_AUDIT_KEY]: s['connector.updated'].eventId } };
    const early = decide(fold([started, schemaPass, credsPass]), at(200), settings);
    expect(early.events).toEqual([]);
    const late = decide(fold([started, schemaPass, credsPass, update(true)]), at(300), settings);
    expect(late.events[0]).toMatchObject({ eventType: 'connector.approval.requested', policy: 'breaking-change-in-production' });
    // An update that never arrives ends the attempt at the preflight timeout, naming what is missing.
    const lost = validated(decide(fold([started, schemaPass, credsPass]), at(10_000), settings).events)!;
    expect(lost.reason).toBe('TIMEOUT');
    expect(lost.receipt.checks).toContainEqual(expect.objectContaining({ name: 'update', status: 'MISSING' }));
  });

  it('an update without autoPreflight is not an attempt (it would only time out)', () => {
    expect(foldsInto({ ...s['connector.updated'], autoPreflight: false })).toBe(false);
    expect(foldsInto(s['connector.updated'])).toBe(true);
    expect(foldsInto(s['connector.handshake'])).toBe(true);
  });
});
