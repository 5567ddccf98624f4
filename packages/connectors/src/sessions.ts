/**
 * Source sessions one check may share across its operations. A schema check of a SQL source ran
 * discovery and every pushdown expectation on its own connection: twelve TCP + TLS + SCRAM
 * handshakes (and twelve server backends) per PostgreSQL preflight, most of its time (issue 14).
 * The check that makes the context owns the sessions and closes them when it is done; a context
 * without one keeps the connection-per-operation behaviour.
 */
export class OperationSessions {
  private readonly open = new Map<string, { session: Promise<unknown>; close: () => Promise<void> }>();
  private closed = false;

  /** The session under `key`, opened on first use; a failed open is not kept. */
  use<T>(key: string, opener: () => Promise<T>, close: (session: T) => Promise<void>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('OperationSessions: used after close'));
    const hit = this.open.get(key);
    if (hit) return hit.session as Promise<T>;
    const session = opener();
    const entry = { session: session as Promise<unknown>, close: async () => close(await session) };
    this.open.set(key, entry);
    session.catch(() => {
      if (this.open.get(key) === entry) this.open.delete(key);
    });
    return session;
  }

  /** Forgets and closes the session under `key` (it timed out or broke); the next use opens a new one. */
  async drop(key: string): Promise<void> {
    const entry = this.open.get(key);
    if (!entry) return;
    this.open.delete(key);
    await entry.close().catch(() => undefined);
  }

  /** Closes every session; the check is done. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.open.values()];
    this.open.clear();
    await Promise.all(entries.map((e) => e.close().catch(() => undefined)));
  }
}
