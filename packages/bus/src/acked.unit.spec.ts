import { describe, expect, it } from 'vitest';
import { sendUntilAcked, type PartitionAck, type PartitionedTopicMessages } from './acked.js';

type M = { key: string; partition: number };
const batch: Array<PartitionedTopicMessages<M>> = [
  { topic: 'validated', messages: [{ key: 'a', partition: 0 }, { key: 'b', partition: 1 }, { key: 'c', partition: 1 }, { key: 'd', partition: 2 }] },
  { topic: 'attempts', messages: [{ key: 'x', partition: 1 }] },
];
const acksOf = (b: Array<PartitionedTopicMessages<M>>): PartitionAck[] => [...new Set(b.flatMap((t) => t.messages.map((m) => `${t.topic}/${m.partition}`)))].map((k) => ({ topicName: k.split('/')[0]!, partition: Number(k.split('/')[1]) }));

describe('sendUntilAcked (kafkajs acknowledging a batch it did not fully write)', () => {
  it('sends again, in order, exactly the records of the partitions the acknowledgement left out', async () => {
    const sent: Array<Array<PartitionedTopicMessages<M>>> = [];
    const missing: unknown[] = [];
    await sendUntilAcked(
      async (b) => {
        sent.push(b);
        // The first attempt "succeeds" without partition 1 of either topic (a leader moved).
        return sent.length === 1 ? acksOf(b).filter((a) => a.partition !== 1) : acksOf(b);
      },
      batch,
      { onMissing: (m) => missing.push(m) },
    );
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual([
      { topic: 'validated', messages: [{ key: 'b', partition: 1 }, { key: 'c', partition: 1 }] },
      { topic: 'attempts', messages: [{ key: 'x', partition: 1 }] },
    ]);
    expect(missing).toEqual([[{ topic: 'validated', partition: 1, records: 2 }, { topic: 'attempts', partition: 1, records: 1 }]]);
  });

  it('sends once when every partition is acknowledged', async () => {
    let calls = 0;
    await sendUntilAcked(async (b) => (calls++, acksOf(b)), batch);
    expect(calls).toBe(1);
  });

  it('fails, naming the partitions, when they are never acknowledged', async () => {
    await expect(sendUntilAcked(async (b) => acksOf(b).filter((a) => a.partition !== 2), batch, { rounds: 3 })).rejects.toThrow(/validated\[2\] after 3 sends/);
  });

  it('refuses a record without a partition (it could not be checked)', async () => {
    await expect(sendUntilAcked(async () => [], [{ topic: 't', messages: [{ key: 'k' } as unknown as M] }])).rejects.toThrow(/names no partition/);
  });
});
