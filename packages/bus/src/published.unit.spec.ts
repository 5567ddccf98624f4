import { describe, expect, it } from 'vitest';
import { derivedEventId } from '@preflight/events';
import { CLOCK_SKEW_MS, PublishedOutputs } from './published.js';

describe('PublishedOutputs (durable dedupe through the log)', () => {
  const input = '11111111-1111-4111-8111-111111111111';
  const answer = derivedEventId(input, 'connector.handshake');

  it('reads the outputs of gained partitions once, in one read for partitions asked together, from the first message minus the clock skew', async () => {
    const reads: Array<{ partitions: number[]; sinceMs: number }> = [];
    const p = new PublishedOutputs(['connector.handshake'], async (partitions, sinceMs, onId) => {
      reads.push({ partitions: [...partitions].sort(), sinceMs });
      onId(answer);
    });
    p.assigned({ in: [0, 1, 2] });
    await Promise.all([p.ready('in', 0, 10_000_000), p.ready('in', 2, 9_000_000)]);
    expect(reads).toEqual([{ partitions: [0, 2], sinceMs: 9_000_000 - CLOCK_SKEW_MS }]);
    await p.ready('in', 0, 20_000_000); // already read
    expect(reads).toHaveLength(1);
    expect(p.answered(input)).toBe(true);
    expect(p.answered('22222222-2222-4222-8222-222222222222')).toBe(false);
  });

  it('every join reads its partitions again, also those held before it (another member may have answered them in between)', async () => {
    let reads = 0;
    const p = new PublishedOutputs(['connector.handshake'], () => {
      reads++;
      return Promise.resolve();
    }, 0);
    p.assigned({ in: [0, 1] });
    await p.ready('in', 0, 1);
    await p.ready('in', 0, 1);
    expect(reads).toBe(1);
    p.assigned({ in: [0] });
    await p.ready('in', 0, 1);
    expect(reads).toBe(2);
    await p.ready('in', 1, 1); // no longer assigned: nothing to read
    expect(reads).toBe(2);
  });

  it('a failed read fails the wait and leaves the partition to be read again', async () => {
    let fail = true;
    const p = new PublishedOutputs(['connector.handshake'], () => (fail ? Promise.reject(new Error('broker gone')) : Promise.resolve()), 0);
    p.assigned({ in: [0] });
    await expect(p.ready('in', 0, 1)).rejects.toThrow('broker gone');
    fail = false;
    await p.ready('in', 0, 1);
    expect(p.stats.reads).toBe(2);
  });

  it('waits the takeover grace before reading a partition gained from another member, not one kept, and not at the first join', async () => {
    const readAt: number[] = [];
    const p = new PublishedOutputs(['connector.handshake'], () => {
      readAt.push(Date.now());
      return Promise.resolve();
    }, 0, 150);
    p.assigned({ in: [0] });
    let t = Date.now();
    await p.ready('in', 0, 1);
    expect(readAt[0]! - t).toBeLessThan(100); // first join: no wait
    p.assigned({ in: [0, 1] });
    t = Date.now();
    await p.ready('in', 0, 1); // kept: read again at once
    expect(readAt[1]! - t).toBeLessThan(100);
    t = Date.now();
    await p.ready('in', 1, 1); // gained: after the grace
    expect(readAt[2]! - t).toBeGreaterThanOrEqual(140);
  });
});
