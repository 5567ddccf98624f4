import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Remembers which eventIds a consumer group has already handled. */
export interface DedupeStore {
  has(eventId: string): boolean;
  add(eventId: string): void;
}

/** Bounded LRU: redeliveries arrive soon after the original, so the recent window is what matters. */
export class MemoryDedupeStore implements DedupeStore {
  private readonly seen = new Set<string>();
  constructor(private readonly capacity = 100_000) {}
  has(eventId: string): boolean {
    return this.seen.has(eventId);
  }
  add(eventId: string): void {
    this.seen.add(eventId);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}

/**
 * Survives a process restart: an append-only file of handled ids. Use where a restarted consumer
 * must not repeat a side effect for messages handled but not yet committed.
 */
export class FileDedupeStore implements DedupeStore {
  private readonly memory: MemoryDedupeStore;
  constructor(private readonly path: string, capacity = 100_000) {
    this.memory = new MemoryDedupeStore(capacity);
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      const ids = readFileSync(path, 'utf8').split('\n').filter(Boolean);
      for (const id of ids.slice(-capacity)) this.memory.add(id);
      // Keep the file from growing without bound across restarts.
      if (ids.length > capacity) writeFileSync(path, ids.slice(-capacity).join('\n') + '\n');
    }
  }
  has(eventId: string): boolean {
    return this.memory.has(eventId);
  }
  add(eventId: string): void {
    if (this.memory.has(eventId)) return;
    this.memory.add(eventId);
    appendFileSync(this.path, `${eventId}\n`);
  }
}
