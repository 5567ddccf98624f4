/**
 * Retries an admin call while Kafka says the failure is retriable — typically right after topic
 * creation, when metadata and partition leadership are still settling ("not the leader",
 * "does not host this topic-partition").
 */
export async function retryRetriable<T>(fn: () => Promise<T>, attempts = 12): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** i)));
    }
  }
}

export class NotReadyError extends Error {
  readonly retriable = true;
}
