import { describe, expect, it } from 'vitest';
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { lostSequence, PRODUCER_RETRY } from './producer.js';

/** kafkajs builds a protocol error from the broker's error entry (its types only admit an Error). */
const protocolError = (entry: { type: string; code: number; retriable: boolean; message: string }): KafkaJSProtocolError => new KafkaJSProtocolError(entry as unknown as Error);

describe('lostSequence (when the producer needs a new idempotent session)', () => {
  it('recognises the broker refusing the sequence or the producer id, also when kafkajs wraps it', () => {
    const outOfOrder = protocolError({ type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', code: 45, retriable: false, message: 'The broker received an out of order sequence number' });
    expect(lostSequence(outOfOrder)).toBe(true);
    expect(lostSequence(new KafkaJSNumberOfRetriesExceeded(outOfOrder, { retryCount: 5, retryTime: 100 }))).toBe(true);
    expect(lostSequence(protocolError({ type: 'UNKNOWN_PRODUCER_ID', code: 59, retriable: false, message: 'This exception is raised by the broker if it could not locate the producer metadata' }))).toBe(true);
  });

  it('leaves other failures to the retry (a broker down, a leader moving)', () => {
    expect(lostSequence(protocolError({ type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'This server is not the leader for that topic-partition' }))).toBe(false);
    expect(lostSequence(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe(false);
  });
});

describe('the producer retry schedule', () => {
  it('keeps ~25 s of retries but never waits more than 2 s between two, so a send follows a new leader within 2 s', () => {
    // kafkajs's schedule without its ±20% jitter: each wait doubles, capped at maxRetryTime.
    const waits: number[] = [];
    for (let i = 0, t: number = PRODUCER_RETRY.initialRetryTime; i < PRODUCER_RETRY.retries; i++, t = Math.min(t * 2, PRODUCER_RETRY.maxRetryTime)) waits.push(t);
    const total = waits.reduce((a, b) => a + b, 0);
    expect(Math.max(...waits)).toBe(2_000);
    expect(total).toBeGreaterThanOrEqual(24_000);
    expect(total).toBeLessThanOrEqual(30_000);
  });
});
