import { PreflightError } from '@preflight/core';

/**
 * Keyset (cursor) paging over an in-memory list: a page is the items strictly after the cursor in
 * (sort key, id) order, so a page never repeats or skips an item that did not itself move, however
 * many items are added meanwhile, and the cost of a page does not grow with its position.
 */
export interface PageRequest<K extends string> {
  limit: number;
  sort: K;
  order: 'asc' | 'desc';
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  total: number;
  nextCursor: string | null;
}

interface Cursor {
  k: string;
  id: string;
}

function decode(cursor: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof c.k === 'string' && typeof c.id === 'string') return { k: c.k, id: c.id };
  } catch {
    /* reported below */
  }
  throw new PreflightError('VALIDATION', 'cursor: not a cursor this API returned (use nextCursor as it came)', { retriable: false, issues: [{ field: 'cursor', message: 'is not a cursor this API returned', value: cursor.slice(0, 80) }] });
}

const encode = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

export function paginate<T, K extends string>(all: T[], req: PageRequest<K>, keyOf: (item: T, sort: K) => string, idOf: (item: T) => string): Page<T> {
  const dir = req.order === 'asc' ? 1 : -1;
  const cmp = (a: Cursor, b: Cursor): number => dir * (a.k < b.k ? -1 : a.k > b.k ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const keyed = all.map((item) => ({ item, c: { k: keyOf(item, req.sort), id: idOf(item) } })).sort((a, b) => cmp(a.c, b.c));
  const after = req.cursor ? decode(req.cursor) : null;
  const start = after ? keyed.findIndex((x) => cmp(x.c, after) > 0) : 0;
  const from = start === -1 ? keyed.length : start;
  const page = keyed.slice(from, from + req.limit);
  const last = page.at(-1);
  return { items: page.map((x) => x.item), total: all.length, nextCursor: last && from + req.limit < keyed.length ? encode(last.c) : null };
}
