import { retryRetriable, type ServiceBus, type Tail, type TopicAdminClient } from '@preflight/bus';
import { toPreflightError } from '@preflight/core';
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

export interface TopicStatsOptions {
  /** How often the background refresh samples offsets and lag. */
  refreshEveryMs?: number;
}

/**
 * Per topic: messages, message rate (from log-end offsets sampled over time) and each service
 * group's lag (log end minus committed offset).
 *
 * One admin client, connected once, refreshes the figures in the background every couple of
 * seconds, one refresh at a time; a request only reads the last refresh. Under pipeline load a
 * round of offset requests can take seconds, and before this each request opened its own admin
 * client and walked the topics one by one, so `/api/topics` took as long as the slowest broker
 * answer (4.5–6.9 s with 2000 preflights running).
 */
export class TopicStats {
  private last: { at: number; ends: Map<string, number> } | undefined;
  private cached: { at: number; rows: TopicRow[] } | undefined;
  private rates = new Map<string, number>();
  private admin: TopicAdminClient | undefined;
  private connecting: Promise<TopicAdminClient> | undefined;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastError: unknown;
  /** Refreshes begun since start: tests and docs read it to show requests do not trigger any. */
  refreshes = 0;
  private readonly refreshEveryMs: number;

  constructor(
    private readonly bus: Pick<ServiceBus, 'adminClient'>,
    private readonly topics: Topics,
    private readonly deadLetterCounter?: DeadLetterCounter,
    options: TopicStatsOptions = {},
  ) {
    this.refreshEveryMs = options.refreshEveryMs ?? 2_000;
  }

  /** Connects the admin client and starts the background refresh; the first round is awaited. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
  }

  /**
   * The last refresh's rows, at once. Only before the first refresh has finished does a caller
   * wait (for that refresh); a later slow refresh never holds a request up.
   */
  async rows(): Promise<TopicRow[]> {
    if (this.cached) return this.cached.rows;
    await this.refresh();
    return this.lastRows();
  }

  // A method, not `this.cached` again, so the check before the await is not taken to still hold.
  private lastRows(): TopicRow[] {
    if (this.cached) return this.cached.rows;
    if (this.lastError !== undefined) throw toPreflightError(this.lastError);
    return [];
  }

  /** When the rows were sampled (ms since the epoch), or undefined before the first refresh. */
  get sampledAt(): number | undefined {
    return this.cached?.at;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Not waiting for a refresh in flight: on a broker that does not answer it would hold the
    // shutdown for a request timeout; disconnecting ends it.
    const admin = this.admin ?? (await this.connecting?.catch(() => undefined));
    this.admin = undefined;
    this.connecting = undefined;
    await admin?.disconnect();
  }

  /** One refresh at a time; whoever asks while one runs shares it. Schedules the next when done. */
  private refresh(): Promise<void> {
    const running = (this.refreshing ??= this.sample()
      .then(
        () => {
          this.lastError = undefined;
        },
        // Kept: the last good rows (a broker that is away now shows as rows that stop moving,
        // not as failed requests); before any, the error is the answer.
        (e: unknown) => {
          this.lastError = e;
        },
      )
      .finally(() => {
        this.refreshing = undefined;
        if (!this.stopped) {
          clearTimeout(this.timer);
          this.timer = setTimeout(() => void this.refresh(), this.refreshEveryMs);
          this.timer.unref();
        }
      }));
    return running;
  }

  private async connected(): Promise<TopicAdminClient> {
    if (this.admin) return this.admin;
    this.connecting ??= (async () => {
      const admin = this.bus.adminClient();
      await admin.connect();
      this.admin = admin;
      return admin;
    })().catch((e: unknown) => {
      this.connecting = undefined;
      throw e;
    });
    return this.connecting;
  }

  private async sample(): Promise<void> {
    this.refreshes++;
    const admin = await this.connected();
    const names = [...this.topics.all(), this.topics.state];
    const existing = new Set(await admin.topicNames());
    const present = names.filter((n) => existing.has(n));
    // Every topic's offsets at once, over the one admin connection, instead of one after another.
    const [offsets, dlqOffsets] = await Promise.all([
      Promise.all(present.map((t) => retryRetriable(() => admin.topicOffsets(t)))),
      Promise.all(present.filter((t) => existing.has(this.topics.dlq(t))).map(async (t) => [t, await retryRetriable(() => admin.topicOffsets(this.topics.dlq(t)))] as const)),
    ]);
    const ends = new Map<string, number>();
    const partitionEnds = new Map<string, Map<number, number>>();
    present.forEach((t, i) => {
      const offs = offsets[i]!;
      partitionEnds.set(t, new Map(offs.map((o) => [o.partition, Number(o.high)])));
      ends.set(t, offs.reduce((n, o) => n + Number(o.high) - Number(o.low), 0));
    });
    const committedByGroup = await Promise.all(
      CONSUMER_SERVICES.map(async (svc) => [svc, await admin.groupOffsets(serviceGroupId(this.topics.prefix, svc), present).catch(() => [])] as const),
    );
    const now = Date.now();
    if (this.last) {
      const secs = (now - this.last.at) / 1000;
      for (const [t, n] of ends) this.rates.set(t, secs > 0 ? Math.max(0, (n - (this.last.ends.get(t) ?? n)) / secs) : 0);
    }
    this.last = { at: now, ends };
    const lagByTopic = new Map<string, Array<{ group: string; lag: number }>>();
    for (const [svc, committed] of committedByGroup) {
      for (const t of committed) {
        const highs = partitionEnds.get(t.topic);
        if (!highs || t.partitions.every((p) => p.offset === '-1')) continue;
        const lag = t.partitions.reduce((n, p) => n + Math.max(0, (highs.get(p.partition) ?? 0) - (p.offset === '-1' ? 0 : Number(p.offset))), 0);
        lagByTopic.set(t.topic, [...(lagByTopic.get(t.topic) ?? []), { group: svc, lag }]);
      }
    }
    const deadLetters = new Map(dlqOffsets.map(([t, offs]) => [t, offs.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)]));
    const withDlq = new Set([...this.topics.all(), this.topics.state]);
    const rows = [...ends].map(([topic, messages]) => ({
      topic,
      messages,
      ratePerSec: Math.round((this.rates.get(topic) ?? 0) * 100) / 100,
      lag: lagByTopic.get(topic) ?? [],
      deadLetters: withDlq.has(topic) ? (deadLetters.get(topic) ?? 0) : null,
      deadLettersByGroup: this.deadLetterCounter?.of(topic) ?? [],
    }));
    this.cached = { at: now, rows };
  }
}
