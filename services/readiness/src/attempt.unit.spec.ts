import { describe, expect, it } from 'vitest';
import { sampleEvents } from '@preflight/events';
import { evolve, mergeAttempts, settled, type Attempt, type ReadinessInput } from './attempt.js';

const s = sampleEvents({ correlationId: 'att-m', connectorId: 'c-m' });
const t0 = Date.parse('2026-11-22T10:00:00.000Z');
const iso = (ms: number): string => new Date(t0 + ms).toISOString();
const events: ReadinessInput[] = [
  { ...s['connector.handshake'], occurredAt: iso(0), durationMs: 5 },
  { ...s['connector.schema.checked'], occurredAt: iso(100) },
  { ...s['connector.credentials.audited'], occurredAt: iso(120) },
  { ...s['connector.approval.requested'], occurredAt: iso(130) },
  { ...s['connector.approval.decided'], occurredAt: iso(140) },
];
const refOf = (e: ReadinessInput): string => `kafka://${e.eventType}/0/${e.eventId}`;
const fold = (es: ReadinessInput[]): Attempt | undefined => es.reduce<Attempt | undefined>((a, e) => evolve(a, e, refOf(e)), undefined);

describe('mergeAttempts (restoring from the changelog beside live folds)', () => {
  it('joining any two partial views of an attempt equals folding all of its events, whichever side is which', () => {
    const all = fold(events)!;
    // Every way of splitting the inputs between "folded live" and "on the changelog", with overlap.
    for (let mask = 0; mask < 1 << events.length; mask++) {
      for (let overlap = 0; overlap < events.length; overlap++) {
        const live = events.filter((_, i) => (mask >> i) & 1 || i === overlap);
        const stored = events.filter((_, i) => !((mask >> i) & 1) || i === overlap);
        const a = fold(live)!;
        const b = fold(stored)!;
        expect(mergeAttempts(a, b)).toEqual(all);
        expect(mergeAttempts(b, a)).toEqual(all);
      }
    }
  });

  it('is idempotent, and keeps an input folded in memory that the changelog does not have yet', () => {
    const onChangelog = fold(events.slice(0, 1))!;
    const live = fold(events.slice(0, 2))!; // the schema check folded while the restore read
    const restored = mergeAttempts(live, onChangelog);
    expect(restored.schema?.eventId).toBe(events[1]!.eventId);
    expect(mergeAttempts(restored, restored)).toEqual(restored);
    expect(mergeAttempts(restored, onChangelog)).toEqual(restored);
  });

  it('an outcome on either side is kept: a decided attempt is never reopened by a restore', () => {
    const open = fold(events.slice(0, 3))!;
    const decided = { ...open, outcome: 'READY' as const };
    expect(mergeAttempts(open, decided).outcome).toBe('READY');
    expect(mergeAttempts(decided, open).outcome).toBe('READY');
  });
});

describe('settled (a finished attempt as it is retained)', () => {
  it('keeps the outcome and the evidence, drops the checks\' events; an open attempt is kept whole', () => {
    const open = fold(events.slice(0, 3))!;
    expect(settled(open)).toBe(open);
    const done = settled({ ...open, outcome: 'READY' });
    expect(done).toEqual({ correlationId: open.correlationId, connectorId: open.connectorId, tenantId: open.tenantId, startedAtMs: open.startedAtMs, evidence: open.evidence, outcome: 'READY' });
    expect(JSON.stringify(done).length).toBeLessThan(JSON.stringify(open).length / 2);
    // Joined with a full view (a restore beside a live fold), it is still the same outcome.
    expect(settled(mergeAttempts(open, done))).toEqual(done);
  });
});
