import { describe, expect, it } from 'vitest';
import { paginate } from './paging.js';

interface Row {
  id: string;
  at: string;
}

const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: `c${String(i).padStart(4, '0')}`, at: `2026-12-02T00:00:${String(i % 7).padStart(2, '0')}Z` }));
const key = (r: Row, sort: 'at' | 'id'): string => (sort === 'at' ? r.at : r.id);

function walk(all: Row[], limit: number, order: 'asc' | 'desc', sort: 'at' | 'id' = 'at', between?: (page: number) => void): Row[] {
  const seen: Row[] = [];
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    const p = paginate(all, { limit, sort, order, cursor }, key, (r) => r.id);
    seen.push(...p.items);
    if (!p.nextCursor) return seen;
    cursor = p.nextCursor;
    between?.(page);
  }
}

describe('keyset paging', () => {
  it('visits every item exactly once, in order, for any page size and direction', () => {
    const all = rows(103);
    for (const limit of [1, 10, 50, 103, 500]) {
      for (const order of ['asc', 'desc'] as const) {
        const seen = walk(all, limit, order);
        expect(seen.map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort());
        const keys = seen.map((r) => `${r.at}|${r.id}`);
        expect(keys).toEqual([...keys].sort((a, b) => (order === 'asc' ? a.localeCompare(b) : b.localeCompare(a))));
      }
    }
  });

  it('neither repeats nor skips an item when others are added between pages', () => {
    const all = rows(60);
    const original = new Set(all.map((r) => r.id));
    const seen = walk(all, 7, 'asc', 'id', (page) => all.push({ id: `new${page}`, at: '2026-12-02T00:00:00Z' }));
    const ids = seen.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of original) expect(ids).toContain(id);
  });

  it('reports the total and ends with a null cursor', () => {
    const p = paginate(rows(5), { limit: 10, sort: 'id', order: 'asc' }, key, (r) => r.id);
    expect(p).toMatchObject({ total: 5, nextCursor: null });
  });

  it('refuses a cursor it did not make, naming the field', () => {
    expect(() => paginate(rows(5), { limit: 2, sort: 'id', order: 'asc', cursor: 'bogus' }, key, (r) => r.id)).toThrow(/cursor: not a cursor this API returned/);
  });
});
