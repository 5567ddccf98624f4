import { afterEach, describe, expect, it } from 'vitest';
import { topicsFor } from '@preflight/events';
import type { TopicAdminClient } from '@preflight/bus';
import { TopicStats } from './topics.js';

const topics = topicsFor('t.');

/**
 * An admin client whose offset answers the test releases by hand, standing in for a broker that
 * is slow under load. It counts what it is asked, so the test can see what a request costs.
 */
function slowAdmin(): {
  /** The factory the view calls, counted: one client for the view's whole life. */
  factory: () => TopicAdminClient;
  created: () => number;
  calls: { connect: number; topicOffsets: number; groupOffsets: number };
  hold: () => void;
  release: () => void;
  high: { n: number };
} {
  const calls = { connect: 0, topicOffsets: 0, groupOffsets: 0 };
  let created = 0;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const high = { n: 10 };
  const admin: TopicAdminClient = {
    connect: async () => {
      calls.connect++;
    },
    disconnect: async () => undefined,
    topicNames: async () => [...topics.all(), topics.state],
    topicOffsets: async () => {
      calls.topicOffsets++;
      const n = high.n;
      await gate;
      return [{ partition: 0, high: String(n), low: '0' }];
    },
    groupOffsets: async () => {
      calls.groupOffsets++;
      return [];
    },
  };
  return {
    factory: () => {
      created++;
      return admin;
    },
    created: () => created,
    calls,
    hold: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    release: () => {
      gate = undefined;
      open?.();
    },
    high,
  };
}

let stats: TopicStats | undefined;
afterEach(async () => {
  await stats?.stop();
  stats = undefined;
});

describe('TopicStats (the /api/topics view)', () => {
  it('answers from the last refresh at once while the next refresh is stuck on a slow broker', async () => {
    const a = slowAdmin();
    stats = new TopicStats({ adminClient: a.factory }, topics, undefined, { refreshEveryMs: 20 });
    await stats.start();
    const first = await stats.rows();
    expect(first.find((r) => r.topic === topics.of('connector.validated'))?.messages).toBe(10);

    // The broker stops answering offset requests; the background refresh that starts now hangs.
    a.hold();
    a.high.n = 25;
    const refreshesBefore = stats.refreshes;
    await new Promise((r) => setTimeout(r, 60));
    expect(stats.refreshes).toBe(refreshesBefore + 1); // one refresh is under way (and stuck), not one per tick

    const t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => stats!.rows()));
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(50);
    for (const rows of answers) expect(rows).toBe(first);

    // Requests cost the broker nothing: the only offset requests are the refreshes' own.
    const perRefresh = topics.all().length + 1;
    expect(a.calls.topicOffsets).toBe(perRefresh * stats.refreshes);

    a.release();
    const moved = await waitFor(async () => (await stats!.rows()).find((r) => r.topic === topics.of('connector.validated'))?.messages === 25);
    expect(moved).toBe(true);
    // One admin client, connected once, for every refresh and request.
    expect(a.created()).toBe(1);
    expect(a.calls.connect).toBe(1);
  });

  it('stops at once while a refresh hangs on a broker that does not answer', async () => {
    const a = slowAdmin();
    stats = new TopicStats({ adminClient: a.factory }, topics, undefined, { refreshEveryMs: 10 });
    await stats.start();
    a.hold();
    await new Promise((r) => setTimeout(r, 40)); // the next refresh is now waiting on the broker
    const t0 = performance.now();
    await stats.stop();
    expect(performance.now() - t0).toBeLessThan(100);
    const refreshes = stats.refreshes;
    a.release();
    await new Promise((r) => setTimeout(r, 60));
    expect(stats.refreshes).toBe(refreshes); // and no refresh is scheduled after the stop
  });

  it('waits only for the very first refresh, and reports its error when there is nothing to show yet', async () => {
    const failing: TopicAdminClient = {
      connect: async () => {
        throw new Error('broker away');
      },
      disconnect: async () => undefined,
      topicNames: async () => [],
      topicOffsets: async () => [],
      groupOffsets: async () => [],
    };
    stats = new TopicStats({ adminClient: () => failing }, topics, undefined, { refreshEveryMs: 1_000 });
    await stats.start(); // a broker that is away does not stop the projector from starting
    await expect(stats.rows()).rejects.toThrow('broker away');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}
