/**
 * Consumer-group timings, chosen for fast failover. A crashed member's partitions move when the
 * coordinator stops hearing from it: after `sessionTimeout` (6 s is the broker's default minimum,
 * `group.min.session.timeout.ms`), instead of kafkajs' 30 s. Heartbeats go out every second so a
 * live member is never mistaken for a dead one. `rebalanceTimeout` bounds how long a rebalance
 * waits for a live member to finish the message in hand and rejoin.
 */
export interface GroupTimings {
  sessionTimeout: number;
  heartbeatInterval: number;
  rebalanceTimeout: number;
  /** How long a member waits after gaining a partition before reading the answers already on it (see PublishedOutputs). */
  takeoverGrace?: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

/** The timings of a group from its session and rebalance timeouts; heartbeats every third of the session, at most 1 s. */
export function timingsFor(sessionTimeout: number, rebalanceTimeout: number): GroupTimings {
  return { sessionTimeout, heartbeatInterval: Math.max(100, Math.min(1_000, Math.floor(sessionTimeout / 3))), rebalanceTimeout };
}

/** Long enough for most steps a just-evicted member is still running to land their answer. */
export const DEFAULT_TAKEOVER_GRACE_MS = 3_000;

/** From settings (the bus config reads them once at start); without any, the defaults. */
export function groupTimings(env: NodeJS.ProcessEnv = {}, sessionTimeoutMs?: number): GroupTimings {
  const grace = env['KAFKA_TAKEOVER_GRACE_MS'] === '0' ? 0 : positive(env, 'KAFKA_TAKEOVER_GRACE_MS', DEFAULT_TAKEOVER_GRACE_MS);
  return { ...timingsFor(sessionTimeoutMs ?? positive(env, 'KAFKA_SESSION_TIMEOUT_MS', 6_000), positive(env, 'KAFKA_REBALANCE_TIMEOUT_MS', 20_000)), takeoverGrace: grace };
}

/** How long a service may take to stop before the process exits anyway (a broker that is gone must not hang it). */
export function shutdownDeadlineMs(env: NodeJS.ProcessEnv = {}): number {
  return positive(env, 'SHUTDOWN_DEADLINE_MS', 10_000);
}
