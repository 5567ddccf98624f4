import { derivedEventId, type EventType } from '@preflight/events';
import { MemoryDedupeStore } from './dedupe.js';

/**
 * Reads the ids (`ce_id`) of the output records written on some partitions of the output topics
 * since an instant.
 */
export type OutputIdReader = (partitions: ReadonlySet<number>, sinceMs: number, onId: (eventId: string) => void) => Promise<void>;

/**
 * How much earlier than the first redelivered input an output may be stamped: producers' clocks
 * and the broker's differ a little. A wider window only reads a few more records.
 */
export const CLOCK_SKEW_MS = 60_000;

/**
 * Durable dedupe, with the log as the store. A service's outputs carry ids derived from the input
 * they answer (`causedBy(input, …, { outputType })`), so "was this input already handled?" is
 * "is its derived id on the output topic?". A member that takes over a partition (a restart, a
 * crash of the previous owner) reads the outputs written since the first message it is handed,
 * before handling any of them: an input the previous owner handled and published but had not
 * committed is skipped instead of running its side effects (a session on the tenant's source)
 * again. The cost is bounded by what was written since that first uncommitted input, not by a
 * time window, and paid once per partition per rebalance (only for partitions with messages).
 *
 * Output topics are co-partitioned with the inputs (same partition count, keyed by connector id),
 * so the outputs of input partition p are on partition p.
 */
export class PublishedOutputs {
  private readonly published = new MemoryDedupeStore(200_000);
  /** Input partitions assigned since their outputs were last read: `topic:partition`. */
  private readonly unread = new Set<string>();
  /** Partitions this member did not hold before its last join, and when it got them. */
  private readonly gainedAt = new Map<string, number>();
  private held = new Set<string>();
  private joined = false;
  private pending: { partition: number; sinceMs: number; done: { resolve: () => void; reject: (e: unknown) => void } }[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  readonly stats = { reads: 0, ids: 0, skipped: 0 };

  constructor(
    private readonly outputs: readonly EventType[],
    private readonly read: OutputIdReader,
    /** Requests for several partitions that arrive within this many ms share one read. */
    private readonly gatherMs = 20,
    /**
     * How long after gaining a partition its outputs are read. A member evicted while a handler
     * ran (its session expired under load, a broker it fetched from hung) does not know it yet:
     * that handler runs on and publishes its answer a little later. Reading after it lands turns
     * what would be a second run beside it into a skip. Partitions kept across a join wait not.
     */
    private readonly takeoverGraceMs = 0,
  ) {}

  /**
   * A new assignment (`topic` → partitions): every partition in it must be read again, also one
   * this member held before the join. A member whose session expired under load, or whose
   * consumer crashed and rejoined, gets "its" partitions back after another member may have
   * handled (and answered, without committing) their messages in between, and an eager rebalance
   * resumes every partition from its committed offset.
   */
  assigned(assignment: Record<string, number[]>, now = Date.now()): void {
    this.unread.clear();
    const next = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`)));
    // Not at the first join: a starting process takes partitions from a new group or a dead one,
    // and waiting there would only slow every start.
    const first = !this.joined;
    this.joined = true;
    for (const key of next) {
      this.unread.add(key);
      if (!first && !this.held.has(key)) this.gainedAt.set(key, now);
    }
    for (const key of this.gainedAt.keys()) if (!next.has(key)) this.gainedAt.delete(key);
    this.held = next;
  }

  /**
   * Before the first message of a gained partition is handled: reads its outputs since that
   * message was written. Concurrent calls for different partitions share one read.
   */
  async ready(topic: string, partition: number, firstMessageTimestampMs: number): Promise<void> {
    const key = `${topic}:${partition}`;
    if (!this.unread.has(key)) return;
    const gained = this.gainedAt.get(key);
    const wait = gained === undefined ? 0 : gained + this.takeoverGraceMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.gainedAt.delete(key);
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ partition, sinceMs: firstMessageTimestampMs - CLOCK_SKEW_MS, done: { resolve, reject } });
      this.flushTimer ??= setTimeout(() => void this.flush(), this.gatherMs);
    });
    this.unread.delete(key);
  }

  /** Whether an output answering this input is already on the log. */
  answered(inputEventId: string): boolean {
    if (this.stats.ids === 0) return false;
    const hit = this.outputs.some((t) => this.published.has(derivedEventId(inputEventId, t)));
    if (hit) this.stats.skipped++;
    return hit;
  }

  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const partitions = new Set(batch.map((b) => b.partition));
    const sinceMs = Math.min(...batch.map((b) => b.sinceMs));
    try {
      this.stats.reads++;
      await this.read(partitions, sinceMs, (id) => {
        this.published.add(id);
        this.stats.ids++;
      });
      for (const b of batch) b.done.resolve();
    } catch (e) {
      for (const b of batch) b.done.reject(e);
    }
  }
}
