import type { Decision, SchemaLog } from './registry.js';
import type { LogRecord } from './store.js';

/**
 * `_schemas` as an in-memory array: the same contract as the Kafka log, for tests of everything
 * above the adapter (operations, HTTP) without a broker, and for checking that a compacted log
 * folds to the same state as the full one.
 */
export class MemoryLog implements SchemaLog {
  readonly records: LogRecord[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly onRecord: (r: LogRecord) => void) {}

  exclusive<T>(decide: () => Decision<T>): Promise<T> {
    const run = this.queue.then(() => {
      const { records, result } = decide();
      for (const r of records) {
        this.records.push(r);
        this.onRecord(r);
      }
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** What log compaction leaves: the latest record of each key, in log order, tombstones included. */
  compacted(): LogRecord[] {
    const last = new Map<string, number>();
    this.records.forEach((r, i) => last.set(JSON.stringify(r.key), i));
    return this.records.filter((r, i) => last.get(JSON.stringify(r.key)) === i);
  }
}
