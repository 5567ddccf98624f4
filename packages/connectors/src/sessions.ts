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

/** How a source opens, ends and tears down a session, and which failures leave it usable. */
export interface SessionDriver<S> {
  /** Connected; `shared` sessions are also set up for every operation of the check (read-only, schema). */
  open(shared: boolean): Promise<S>;
  /** Ends it politely. */
  close(session: S): Promise<void>;
  /** Tears it down at once (an abort must not wait for the server). */
  destroy(session: S): void;
  /** Whether the session is still fine after this failure (a server error: a denied table, a bad rule). */
  usableAfter(e: unknown): boolean;
}

/**
 * Runs `fn` on the check's shared session under `key` when there are `sessions` (opened on first
 * use), else on a session of its own, closed after. The signal (the operation's timeout) tears the
 * session down; a shared session that timed out or broke is dropped, so the next operation opens
 * a fresh one. Errors come out as thrown; the caller maps them.
 */
export async function withSession<S, T>(sessions: OperationSessions | undefined, key: string, signal: AbortSignal, driver: SessionDriver<S>, fn: (session: S) => Promise<T>): Promise<T> {
  const session = sessions ? await sessions.use(key, () => driver.open(true), (s) => driver.close(s)) : await driver.open(false);
  const kill = (): void => {
    driver.destroy(session);
    if (sessions) void sessions.drop(key);
  };
  signal.addEventListener('abort', kill, { once: true });
  try {
    if (signal.aborted) kill();
    return await fn(session);
  } catch (e) {
    if (sessions && (signal.aborted || !driver.usableAfter(e))) await sessions.drop(key);
    throw e;
  } finally {
    signal.removeEventListener('abort', kill);
    if (!sessions) await driver.close(session);
  }
}
