import { PreflightError, toPreflightError, withSpan } from '@preflight/core';
import type { ConnectorManifest, OperationContext, OperationName } from './facade.js';

/**
 * Runs one facade operation under the manifest's hard timeout and retry policy. The attempt gets
 * an AbortSignal that fires on timeout or on the caller's signal; connectors tear their socket
 * down on it, so nothing hangs on a source that accepts TCP and never answers.
 */
export async function runOperation<T>(
  manifest: ConnectorManifest,
  op: OperationName,
  ctx: OperationContext,
  attempt: (signal: AbortSignal, attemptNo: number) => Promise<T>,
): Promise<{ value: T; attempts: number; durationMs: number }> {
  const started = performance.now();
  const timeoutMs = ctx.timeoutMs ?? manifest.timeouts[op];
  const policy = manifest.retry;
  return withSpan(`connector.${manifest.type}.${op}`, { 'connector.type': manifest.type, 'connector.version': manifest.version }, async () => {
    for (let n = 1; ; n++) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new PreflightError('TIMEOUT', `${manifest.type} ${op} did not finish within ${timeoutMs} ms`, { retriable: true })), timeoutMs);
      const onCaller = (): void => ac.abort(ctx.signal?.reason ?? new PreflightError('ABORTED', `${op} aborted by the caller`, { retriable: false }));
      ctx.signal?.addEventListener('abort', onCaller, { once: true });
      try {
        if (ctx.signal?.aborted) onCaller();
        const value = await Promise.race([
          attempt(ac.signal, n),
          new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(toPreflightError(ac.signal.reason, 'TIMEOUT')), { once: true })),
        ]);
        return { value, attempts: n, durationMs: performance.now() - started };
      } catch (e) {
        const err = ac.signal.aborted ? toPreflightError(ac.signal.reason, 'TIMEOUT') : toPreflightError(e, 'SOURCE');
        const retriable = err.retriable && policy.retriableCodes.includes(err.code) && !ctx.signal?.aborted;
        if (!retriable || n >= policy.attempts) {
          throw new PreflightError(err.code, err.message, { cause: err, retriable: err.retriable, details: { ...err.details, attempts: n, operation: op } });
        }
        ctx.logger?.warn({ op, attempt: n, code: err.code }, `${manifest.type} ${op} failed (${err.code}); retrying`);
        const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (n - 1));
        await new Promise((r) => setTimeout(r, backoff));
      } finally {
        clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', onCaller);
      }
    }
  });
}
