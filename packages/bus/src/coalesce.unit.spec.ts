import { describe, expect, it } from 'vitest';
import { Coalescer, type GroupedRequest } from './coalesce.js';

interface Rec {
  key: string;
  n: number;
}

/** A fake broker: records each request, answers when the test says so; flushes run when the test turns the loop. */
function harness(options: { lingerMs?: number; maxBytes?: number } = {}) {
  const sent: Array<GroupedRequest<Rec>> = [];
  const answers: Array<{ ok: () => void; fail: (e: unknown) => void }> = [];
  const deferred: Array<{ fn: () => void; ms: number }> = [];
  const c = new Coalescer<Rec>({
    lingerMs: options.lingerMs ?? 0,
    maxBytes: options.maxBytes ?? 1_000_000,
    defer: (fn, ms) => deferred.push({ fn, ms }),
    send: (request) => {
      sent.push(request);
      return new Promise<void>((ok, fail) => answers.push({ ok, fail }));
    },
    abandoned: (failed) => new Error(`abandoned after: ${(failed as Error).message}`),
  });
  const turn = (): void => {
    for (const d of deferred.splice(0)) d.fn();
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const publish = (topic: string, recs: Rec[], bytes = 10): { p: Promise<void>; state: () => string } => {
    let state = 'pending';
    const p = c.add(new Map([[topic, recs]]), recs.length, bytes);
    p.then(
      () => (state = 'ok'),
      (e: Error) => (state = `failed: ${e.message}`),
    );
    return { p, state: () => state };
  };
  return { c, sent, answers, deferred, turn, settle, publish };
}

const recs = (key: string, ...ns: number[]): Rec[] => ns.map((n) => ({ key, n }));
const flat = (r: GroupedRequest<Rec>, topic: string): string[] => (r.topicMessages.get(topic) ?? []).map((m) => `${m.key}${m.n}`);

describe('Coalescer', () => {
  it('sends what is published in the same turn as one request, in call order, and resolves each caller with it', async () => {
    const h = harness();
    const a = h.publish('t', recs('a', 1));
    const b = h.publish('t', recs('b', 1, 2));
    const c = h.publish('u', recs('a', 9));
    const d = h.publish('t', recs('a', 2));
    expect(h.sent).toHaveLength(0);
    expect(h.deferred.map((x) => x.ms)).toEqual([0]);
    h.turn();
    expect(h.sent).toHaveLength(1);
    expect(flat(h.sent[0]!, 't')).toEqual(['a1', 'b1', 'b2', 'a2']);
    expect(flat(h.sent[0]!, 'u')).toEqual(['a9']);
    expect(h.sent[0]!.count).toBe(5);
    await h.settle();
    expect([a, b, c, d].map((x) => x.state())).toEqual(['pending', 'pending', 'pending', 'pending']);
    h.answers[0]!.ok();
    await h.settle();
    expect([a, b, c, d].map((x) => x.state())).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('waits the configured linger before the first request', () => {
    const h = harness({ lingerMs: 5 });
    h.publish('t', recs('a', 1));
    h.publish('t', recs('a', 2));
    expect(h.deferred.map((x) => x.ms)).toEqual([5]);
    h.turn();
    expect(h.sent.map((r) => flat(r, 't'))).toEqual([['a1', 'a2']]);
  });

  it('gathers what is published while a request is in flight into the next one; one request in flight at a time', async () => {
    const h = harness();
    const first = h.publish('t', recs('a', 1));
    h.turn();
    const second = h.publish('t', recs('a', 2));
    const third = h.publish('t', recs('b', 1));
    h.turn(); // nothing may go out while the first is unanswered
    expect(h.sent).toHaveLength(1);
    h.answers[0]!.ok();
    await h.settle();
    expect(first.state()).toBe('ok');
    expect(h.sent.map((r) => flat(r, 't'))).toEqual([['a1'], ['a2', 'b1']]);
    expect(second.state()).toBe('pending');
    h.answers[1]!.ok();
    await h.settle();
    expect([second.state(), third.state()]).toEqual(['ok', 'ok']);
    expect(h.c.requests).toBe(2);
  });

  it('keeps each key in publish order across requests when a request fills up', async () => {
    const h = harness({ maxBytes: 25 });
    const all = [1, 2, 3, 4, 5].map((n) => h.publish('t', recs(n % 2 ? 'a' : 'b', n), 10));
    h.turn();
    for (let i = 0; i < 3; i++) {
      h.answers[i]!.ok();
      await h.settle();
    }
    expect(h.sent.map((r) => flat(r, 't'))).toEqual([['a1', 'b2'], ['a3', 'b4'], ['a5']]);
    expect(all.map((x) => x.state())).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('sends one oversized publish alone rather than never', () => {
    const h = harness({ maxBytes: 25 });
    h.publish('t', recs('a', 1), 100);
    h.publish('t', recs('a', 2), 10);
    h.turn();
    expect(h.sent.map((r) => flat(r, 't'))).toEqual([['a1']]);
  });

  it('a failed request rejects every caller in it, and those gathered behind it are not sent after it', async () => {
    const h = harness();
    const a = h.publish('t', recs('a', 1));
    const b = h.publish('t', recs('b', 1));
    h.turn();
    const c = h.publish('t', recs('a', 2));
    h.answers[0]!.fail(new Error('broker gone'));
    await h.settle();
    expect([a.state(), b.state()]).toEqual(['failed: broker gone', 'failed: broker gone']);
    expect(c.state()).toBe('failed: abandoned after: broker gone');
    expect(h.sent).toHaveLength(1);
    // Later publishes start afresh.
    const d = h.publish('t', recs('a', 1));
    h.turn();
    expect(h.sent.map((r) => flat(r, 't'))).toEqual([['a1', 'b1'], ['a1']]);
    h.answers[1]!.ok();
    await h.settle();
    expect(d.state()).toBe('ok');
  });

  it('drain sends what is still gathered and waits for every answer', async () => {
    const h = harness();
    const a = h.publish('t', recs('a', 1));
    let drained = false;
    const d = h.c.drain().then(() => (drained = true));
    expect(h.sent).toHaveLength(1);
    const b = h.publish('t', recs('a', 2));
    h.answers[0]!.ok();
    await h.settle();
    expect(drained).toBe(false);
    h.answers[1]!.ok();
    await d;
    expect([a.state(), b.state()]).toEqual(['ok', 'ok']);
    // The turn that was scheduled before the drain finds nothing left to send.
    h.turn();
    expect(h.sent).toHaveLength(2);
  });

  it('does not change the caller\'s own record list', () => {
    const h = harness();
    const mine = recs('a', 1);
    void h.c.add(new Map([['t', mine]]), 1, 10);
    void h.c.add(new Map([['t', recs('a', 2)]]), 1, 10);
    h.turn();
    expect(mine).toEqual([{ key: 'a', n: 1 }]);
    expect(flat(h.sent[0]!, 't')).toEqual(['a1', 'a2']);
  });
});
