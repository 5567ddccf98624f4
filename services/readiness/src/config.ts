import { DEFAULT_TAKEOVER_GRACE_MS, SettingsReader } from '@preflight/bus';

/** Readiness's own settings, read once at start (docs/configuration.md). */
export interface ReadinessConfig {
  preflightTimeoutMs: number;
  approvalTimeoutMs: number;
  /** Upgrades only: a window of the inputs re-read besides the changelog; absent: the changelog alone. */
  recoveryWindowMs: number | undefined;
  /** After partitions move from another instance, how long before their attempts are restored (an evicted instance may still publish a decision). */
  takeoverGraceMs: number;
}

export const DEFAULT_PREFLIGHT_TIMEOUT_MS = 60_000;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** Every problem at once, each naming its variable and value (a ConfigError). */
export function readinessConfig(env: NodeJS.ProcessEnv = process.env): ReadinessConfig {
  const r = new SettingsReader(env);
  const recovery = r.get('READINESS_RECOVERY_WINDOW_MS') === undefined ? undefined : r.wholeNumber('READINESS_RECOVERY_WINDOW_MS', 0, 1);
  return r.done({
    preflightTimeoutMs: r.wholeNumber('PREFLIGHT_TIMEOUT_MS', DEFAULT_PREFLIGHT_TIMEOUT_MS, 1),
    approvalTimeoutMs: r.wholeNumber('APPROVAL_TIMEOUT_MS', DEFAULT_APPROVAL_TIMEOUT_MS, 1),
    recoveryWindowMs: recovery,
    takeoverGraceMs: r.wholeNumber('KAFKA_TAKEOVER_GRACE_MS', DEFAULT_TAKEOVER_GRACE_MS),
  });
}
