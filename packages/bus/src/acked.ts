/**
 * Sends a batch whose records all name their partition, and sends again the records of any
 * partition the acknowledgement does not list.
 *
 * kafkajs 2.2.4 can acknowledge a batch without having written all of it: `sendMessages` keeps the
 * responses of a failed attempt per *broker*, and on the retry sends only to brokers without a
 * response yet. When a broker dies mid-batch, its partitions move to new leaders; if a new leader
 * already answered for its own partitions in the first attempt, the moved partitions are never
 * sent, and `sendBatch` resolves. In the chaos run (a broker killed under 300 preflights) that lost
 * one `connector.validated` that readiness had published and logged (issue 12).
 *
 * The records of a missing partition were not written by that attempt: kafkajs rolled their
 * sequence numbers back when the request to the dead broker failed, so sending them again is
 * either their first write or, if the dead broker had written them after all, dropped by the
 * idempotent producer as a duplicate sequence. Nothing is sent twice.
 */
export interface PartitionedTopicMessages<M extends { partition?: number | undefined }> {
  topic: string;
  messages: M[];
}

export interface PartitionAck {
  topicName: string;
  partition: number;
}

export async function sendUntilAcked<M extends { partition?: number | undefined }>(
  send: (batch: Array<PartitionedTopicMessages<M>>) => Promise<PartitionAck[]>,
  batch: Array<PartitionedTopicMessages<M>>,
  options: { rounds?: number; onMissing?: (missing: Array<{ topic: string; partition: number; records: number }>, round: number) => void } = {},
): Promise<void> {
  const rounds = options.rounds ?? 5;
  let pending = batch;
  for (let round = 1; ; round++) {
    const acks = await send(pending);
    const acked = new Set(acks.map((a) => `${a.topicName}\u0000${a.partition}`));
    const missing = new Map<string, { topic: string; partition: number; records: number }>();
    pending = pending
      .map(({ topic, messages }) => ({
        topic,
        messages: messages.filter((m) => {
          if (m.partition === undefined) throw new Error(`sendUntilAcked: a record for ${topic} names no partition`);
          const key = `${topic}\u0000${m.partition}`;
          if (acked.has(key)) return false;
          const entry = missing.get(key) ?? { topic, partition: m.partition, records: 0 };
          entry.records++;
          missing.set(key, entry);
          return true;
        }),
      }))
      .filter((t) => t.messages.length > 0);
    if (pending.length === 0) return;
    options.onMissing?.([...missing.values()], round);
    if (round >= rounds) throw new Error(`the broker acknowledged no write for ${[...missing.values()].map((m) => `${m.topic}[${m.partition}]`).join(', ')} after ${rounds} sends`);
  }
}
