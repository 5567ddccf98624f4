import { AsyncLocalStorage } from 'node:async_hooks';
import { PreflightError } from '@preflight/core';

/**
 * A batch's hold on its partition. kafkajs reports a lost membership only to a heartbeat: a member
 * evicted while a slow handler ran (its session expired under load, a broker it fetched from hung)
 * keeps running that handler, and the partition's new owner handles the same message. Kafka fences
 * such a zombie's writes with transactions; here the heartbeat's answer marks the lease lost, and
 * the producer refuses a publish made from inside a handler whose lease is lost, so only the new
 * owner's answer reaches the log (the zombie's source I/O has happened; only its write is stopped).
 */
export interface Lease {
  lost: boolean;
}

const storage = new AsyncLocalStorage<Lease>();

export function withLease<T>(lease: Lease, work: () => Promise<T>): Promise<T> {
  return storage.run(lease, work);
}

/** kafkajs error types that mean this member no longer owns what it was handed. */
const LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

/** Marks the lease lost when a heartbeat's error says the membership is gone (a rebalance in progress is not). */
export function noteHeartbeatError(lease: Lease, e: unknown): void {
  const type = (e as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && LOST.has(type)) lease.lost = true;
}

/** Throws when called from a handler whose batch lost its partition. */
export function assertLeaseHeld(): void {
  if (storage.getStore()?.lost) throw new PreflightError('ABORTED', 'this consumer lost its partition while the handler ran (evicted from the group); its new owner handles the message', { retriable: false, details: { fenced: true } });
}

export function isFenced(e: unknown): boolean {
  return e instanceof PreflightError && e.code === 'ABORTED' && e.details['fenced'] === true;
}
