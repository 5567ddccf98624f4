import { toPreflightError, type Logger } from '@preflight/core';
import type { ConnectorEvent } from '@preflight/events';
import type { EventProducer } from './producer.js';

/**
 * A publish that outlasts a broker outage. A handler that has done its source I/O must not lose
 * the result to a failed publish: failing the handler would have the consumer retry it whole, and
 * the source sees a second session. So only the publish is retried, while the failure is
 * retriable and until the deadline; the events keep their derived ids, so a publish that did land
 * before an error was reported is dropped by consumers as a duplicate.
 */
export function publishPersistently(producer: Pick<EventProducer, 'publish'>, logger: Logger, options: { deadlineMs?: number; maxBackoffMs?: number } = {}): (...events: ConnectorEvent[]) => Promise<void> {
  const deadlineMs = options.deadlineMs ?? 120_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  return async (...events) => {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.publish(...events);
        if (attempt > 1) logger.info({ attempt, ms: Date.now() - started }, 'published after retrying');
        return;
      } catch (e) {
        const err = toPreflightError(e);
        if (!err.retriable || Date.now() - started >= deadlineMs) throw err;
        const backoff = Math.min(maxBackoffMs, 100 * 2 ** attempt);
        logger.warn({ err: err.toJSON(), attempt, backoffMs: backoff }, 'publish failed; retrying the publish only, not the work before it');
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  };
}
