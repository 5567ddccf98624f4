import { describe, expect, it } from 'vitest';
import { PreflightError } from '@preflight/core';
import { testLogger } from '@preflight/testkit';
import { publishPersistently } from './persistent.js';

describe('publishPersistently', () => {
  it('retries a retriable publish failure until it lands, without failing the caller', async () => {
    let calls = 0;
    const publish = publishPersistently({ publish: () => (++calls < 3 ? Promise.reject(new PreflightError('BUS', 'broker down', { retriable: true })) : Promise.resolve()) }, testLogger(), { maxBackoffMs: 1 });
    await publish();
    expect(calls).toBe(3);
  });

  it('gives up at once on a failure that is not retriable, and at the deadline on one that is', async () => {
    await expect(publishPersistently({ publish: () => Promise.reject(new PreflightError('BUS', 'not declared', { retriable: false })) }, testLogger())()).rejects.toThrow('not declared');
    let calls = 0;
    const publish = publishPersistently({ publish: () => (calls++, Promise.reject(new PreflightError('BUS', 'still down', { retriable: true }))) }, testLogger(), { deadlineMs: 30, maxBackoffMs: 5 });
    await expect(publish()).rejects.toThrow('still down');
    expect(calls).toBeGreaterThan(1);
  });
});
