import { describe, expect, it } from 'vitest';
import { assertLeaseHeld, isFenced, noteHeartbeatError, withLease, type Lease } from './lease.js';

describe('lease: fencing an evicted member\'s writes', () => {
  it('a heartbeat saying the member is gone marks the lease lost; a rebalance in progress does not', () => {
    const lease: Lease = { lost: false };
    noteHeartbeatError(lease, Object.assign(new Error('The group is rebalancing, re-joining'), { type: 'REBALANCE_IN_PROGRESS' }));
    noteHeartbeatError(lease, new Error('socket closed'));
    expect(lease.lost).toBe(false);
    noteHeartbeatError(lease, Object.assign(new Error('The coordinator is not aware of this member'), { type: 'UNKNOWN_MEMBER_ID' }));
    expect(lease.lost).toBe(true);
  });

  it('refuses a write from inside a handler whose lease is lost, also after an await, and only there', async () => {
    const lease: Lease = { lost: false };
    const seen: unknown[] = [];
    await withLease(lease, async () => {
      assertLeaseHeld();
      lease.lost = true;
      await new Promise((r) => setTimeout(r, 1));
      try {
        assertLeaseHeld();
      } catch (e) {
        seen.push(e);
      }
    });
    expect(seen).toHaveLength(1);
    expect(isFenced(seen[0])).toBe(true);
    expect(() => assertLeaseHeld()).not.toThrow(); // outside any batch (a timer's publish)
  });
});
