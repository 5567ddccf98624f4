import { describe, expect, it } from 'vitest';
import { nextOffset } from './projection.js';
import { insertSorted } from './state.js';

interface Entry {
  at: string;
  id: string;
}
const cmp = (x: Entry, y: Entry): number => x.at.localeCompare(y.at) || x.id.localeCompare(y.id);
/** What the fold did before: append, sort (stable), keep the newest `limit`. */
const reference = (sorted: Entry[], item: Entry, limit: number): Entry[] => [...sorted, item].sort(cmp).slice(-limit);

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('insertSorted (the fold keeps history and attempts in order without re-sorting)', () => {
  it('equals append + stable sort + keep the newest, for new, old, tied and duplicate entries at every length', () => {
    const rnd = lcg(7);
    for (let round = 0; round < 500; round++) {
      const limit = 1 + Math.floor(rnd() * 6);
      let list: Entry[] = [];
      let expected: Entry[] = [];
      for (let step = 0; step < 12; step++) {
        // Few distinct times and ids, so ties (same time, same id) are common.
        const item = { at: `2026-01-01T00:00:0${Math.floor(rnd() * 4)}Z`, id: `e${Math.floor(rnd() * 3)}` };
        expected = reference(expected, item, limit);
        list = insertSorted(list, item, cmp, limit);
        expect(list).toEqual(expected);
        // Same objects in the same places, not only equal ones: ties keep the newcomer last.
        list.forEach((x, i) => expect(x).toBe(expected[i]));
      }
    }
  });

  it('does not modify the list it is given (states are values; a snapshot may share them)', () => {
    const list = [{ at: 'a', id: '1' }, { at: 'c', id: '1' }];
    const copy = structuredClone(list);
    insertSorted(list, { at: 'b', id: '1' }, cmp, 2);
    expect(list).toEqual(copy);
  });
});

describe('nextOffset', () => {
  it('adds one exactly, also past 2^53 where plain numbers round', () => {
    expect(nextOffset('0')).toBe('1');
    expect(nextOffset('41')).toBe('42');
    expect(nextOffset('9007199254740990')).toBe('9007199254740991');
    expect(nextOffset('9007199254740991')).toBe('9007199254740992');
    expect(nextOffset('9223372036854775806')).toBe('9223372036854775807');
  });
});
