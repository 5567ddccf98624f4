import { describe, expect, it } from 'vitest';
import { ConfigError } from '@preflight/bus';
import { readinessConfig } from './config.js';

describe('readiness config', () => {
  it('defaults, and reads the timeouts, the recovery window and the takeover grace', () => {
    expect(readinessConfig({})).toEqual({ preflightTimeoutMs: 60_000, approvalTimeoutMs: 86_400_000, recoveryWindowMs: undefined, takeoverGraceMs: 3_000 });
    expect(readinessConfig({ PREFLIGHT_TIMEOUT_MS: '1000', APPROVAL_TIMEOUT_MS: '2000', READINESS_RECOVERY_WINDOW_MS: '3000', KAFKA_TAKEOVER_GRACE_MS: '0' })).toEqual({ preflightTimeoutMs: 1000, approvalTimeoutMs: 2000, recoveryWindowMs: 3000, takeoverGraceMs: 0 });
  });

  it('refuses every bad value at once instead of timing out after NaN milliseconds', () => {
    expect(() => readinessConfig({ PREFLIGHT_TIMEOUT_MS: '1m', READINESS_RECOVERY_WINDOW_MS: '0' })).toThrow(ConfigError);
    try {
      readinessConfig({ PREFLIGHT_TIMEOUT_MS: '1m', READINESS_RECOVERY_WINDOW_MS: '0' });
    } catch (e) {
      expect((e as ConfigError).issues?.map((i) => [i.field, i.value])).toEqual([
        ['READINESS_RECOVERY_WINDOW_MS', '0'],
        ['PREFLIGHT_TIMEOUT_MS', '1m'],
      ]);
    }
  });
});
