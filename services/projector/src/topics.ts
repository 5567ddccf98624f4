import type { ServiceBus, Tail } from '@preflight/bus';
import { CONSUMER_SERVICES, serviceGroupId, serviceOfGroup, type Topics } from '@preflight/events';

export interface TopicRow {
  topic: string;
  messages: number;
  ratePerSec: number;
  lag: Array<{ group: string; lag: number }>;
  /** Messages in `<topic>.dlq`: what a service gave up on, kept with its reason for a person; null for a topic without one. */
  deadLetters: number | null;
  /** The same, by the consumer group that set each aside (its `dlq_consumer_group` header). */
  deadLettersByGroup: Array<{ group: string; count: number }>;
}

/**
 * Counts dead letters per source topic and consumer group from the `dlq_*` headers, with one
 * long-lived reader of every `.dlq` topic (dead-letter topics are small and append-only).
 */
export class DeadLetterCounter {
  private readonly counts = new Map<string, Map<string, number>>();
  private tail: Tail | undefined;

  constructor(
    private readonly bus: Pick<ServiceBus, 'tail'>,
    private readonly topics: Topics,
    private readonly groupId: string,
  ) {}

  async start(): Promise<void> {
    this.tail = await this.bus.tail({
      groupId: this.groupId,
      topics: [...this.topics.all(), this.topics.state].map((t) => this.topics.dlq(t)),
      maxWaitTimeInMs: 500,
      // Counted from the start of each dead-letter topic at every start: nothing is committed.
      commit: false,
      startAt: () => '0',
      onAssigned: () => this.counts.clear(),
      onBatch: async (batch) => {
        for (const message of batch.records) {
          const source = message.headers['dlq_source_topic']?.toString() ?? batch.topic.replace(/\.dlq$/, '');
          const group = message.headers['dlq_consumer_group']?.toString() ?? 'unknown';
          const byGroup = this.counts.get(source) ?? new Map<string, number>();
          byGroup.set(group, (byGroup.get(group) ?? 0) + 1);
          this.counts.set(source, byGroup);
          batch.resolveOffset(message.offset);
        }
      },
    });
  }

  /** Per consumer group (its service name when it is one of the platform's) for a source topic. */
  of(topic: string): Array<{ group: string; count: number }> {
    return [...(this.counts.get(topic) ?? [])].map(([group, count]) => ({ group: serviceOfGroup(this.topics.prefix, group), count })).sort((a, b) => a.group.localeCompare(b.group));
  }

  async stop(): Promise<void> {
    await this.tail?.stop();
  }
}


/**
 * Per topic: messages, message rate (from log-end offsets sampled over time) and each service
 * group's lag (log end minus committed offset). Sampled on demand, at most every couple of seconds.
 */
export class TopicStats {
  private last: { at: number; ends: Map<string, number> } | undefined;
  private cached: { at: number; rows: TopicRow[] } | undefined;
  private rates = new Map<string, number>();

  constructor(
    private readonly bus: Pick<ServiceBus, 'withAdmin'>,
    private readonly topics: Topics,
    private readonly deadLetterCounter?: DeadLetterCounter,
  ) {}

  async rows(maxAgeMs = 2_000): Promise<TopicRow[]> {
    if (this.cached && Date.now() - this.cached.at < maxAgeMs) return this.cached.rows;
    return this.bus.withAdmin(async (admin) => {
      const names = [...this.topics.all(), this.topics.state];
      const existing = new Set(await admin.topicNames());
      const ends = new Map<string, number>();
      const partitionEnds = new Map<string, Map<number, number>>();
      for (const t of names.filter((n) => existing.has(n))) {
        const offs = await admin.topicOffsets(t);
        partitionEnds.set(t, new Map(offs.map((o) => [o.partition, Number(o.high)])));
        ends.set(t, offs.reduce((n, o) => n + Number(o.high) - Number(o.low), 0));
      }
      const now = Date.now();
      if (this.last) {
        const secs = (now - this.last.at) / 1000;
        for (const [t, n] of ends) this.rates.set(t, secs > 0 ? Math.max(0, (n - (this.last.ends.get(t) ?? n)) / secs) : 0);
      }
      this.last = { at: now, ends };
      const lagByTopic = new Map<string, Array<{ group: string; lag: number }>>();
      for (const svc of CONSUMER_SERVICES) {
        const groupId = serviceGroupId(this.topics.prefix, svc);
        const topics = [...partitionEnds.keys()];
        const committed = await admin.groupOffsets(groupId, topics).catch(() => []);
        for (const t of committed) {
          const highs = partitionEnds.get(t.topic);
          if (!highs || t.partitions.every((p) => p.offset === '-1')) continue;
          const lag = t.partitions.reduce((n, p) => n + Math.max(0, (highs.get(p.partition) ?? 0) - (p.offset === '-1' ? 0 : Number(p.offset))), 0);
          lagByTopic.set(t.topic, [...(lagByTopic.get(t.topic) ?? []), { group: svc, lag }]);
        }
      }
      const deadLetters = new Map<string, number>();
      for (const t of [...this.topics.all(), this.topics.state].filter((n) => existing.has(this.topics.dlq(n)))) {
        const offs = await admin.topicOffsets(this.topics.dlq(t));
        deadLetters.set(t, offs.reduce((n, o) => n + Number(o.high) - Number(o.low), 0));
      }
      const rows = [...ends].map(([topic, messages]) => ({
        topic,
        messages,
        ratePerSec: Math.round((this.rates.get(topic) ?? 0) * 100) / 100,
        lag: lagByTopic.get(topic) ?? [],
        deadLetters: this.topics.all().includes(topic) || topic === this.topics.state ? (deadLetters.get(topic) ?? 0) : null,
        deadLettersByGroup: this.deadLetterCounter?.of(topic) ?? [],
      }));
      this.cached = { at: now, rows };
      return rows;
    });
  }
}
