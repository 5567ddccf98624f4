/**
 * Groups publishes into produce requests, one request in flight at a time.
 *
 * The idempotent producer keeps one request in flight per connection (so a retry cannot reorder),
 * and kafkajs makes every `send` its own request: fifty HTTP requests each publishing one event
 * would wait fifty round trips in turn. Here, what is published in the same event-loop turn (or
 * within `lingerMs`), and everything published while a request is in flight, goes out as the
 * next request, like the Java producer's `linger.ms`. Records are appended in call order, so
 * records of one key (one partition) keep their order inside a request, and requests go one after
 * the other. Each caller's promise settles with its own request: resolved once the broker has
 * acknowledged that request, rejected when it failed.
 *
 * Kept free of kafkajs so the grouping and ordering can be tested on their own.
 */
export interface GroupedRequest<M> {
  /** Per topic, the records in the order they were published. */
  readonly topicMessages: ReadonlyMap<string, M[]>;
  /** Records in this request. */
  readonly count: number;
  readonly bytes: number;
}

export interface CoalescerOptions<M> {
  /** Sends one request; resolves when the broker has acknowledged every record of it. */
  send(request: GroupedRequest<M>): Promise<void>;
  /** 0: gather what is published in the same event-loop turn; more: wait that long after the first. */
  lingerMs: number;
  /** A request is closed once it holds this many bytes (records over it open the next one). */
  maxBytes: number;
  /** How a flush is put off; tests pass their own to step through the turns. */
  defer?: (fn: () => void, ms: number) => void;
  /** What the callers of a request that was never sent (because an earlier one failed) are told. */
  abandoned?: (failed: unknown, request: GroupedRequest<M>) => unknown;
}

interface Pending<M> {
  topicMessages: Map<string, M[]>;
  count: number;
  bytes: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const deferByTimer = (fn: () => void, ms: number): void => {
  if (ms <= 0) setImmediate(fn);
  else setTimeout(fn, ms);
};

export class Coalescer<M> {
  private readonly queue: Array<Pending<M>> = [];
  private inFlight: Promise<void> | undefined;
  private scheduled = false;
  private readonly defer: (fn: () => void, ms: number) => void;
  /** Requests sent so far. */
  requests = 0;

  constructor(private readonly options: CoalescerOptions<M>) {
    this.defer = options.defer ?? deferByTimer;
  }

  /** Appends one caller's records (per topic, in order); settles when their request does. */
  add(byTopic: ReadonlyMap<string, readonly M[]>, count: number, bytes: number): Promise<void> {
    let batch = this.queue.at(-1);
    if (!batch || (batch.count > 0 && batch.bytes + bytes > this.options.maxBytes)) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      batch = { topicMessages: new Map(), count: 0, bytes: 0, done, resolve, reject };
      this.queue.push(batch);
    }
    for (const [topic, messages] of byTopic) {
      const list = batch.topicMessages.get(topic);
      if (list) for (const m of messages) list.push(m);
      else batch.topicMessages.set(topic, [...messages]);
    }
    batch.count += count;
    batch.bytes += bytes;
    if (!this.inFlight && !this.scheduled) {
      this.scheduled = true;
      this.defer(() => {
        this.scheduled = false;
        if (!this.inFlight) this.flush();
      }, this.options.lingerMs);
    }
    return batch.done;
  }

  /** Resolves once everything added so far has been sent and answered (whatever the answer). */
  async drain(): Promise<void> {
    while (this.inFlight || this.queue.length > 0) {
      if (!this.inFlight) this.flush();
      await this.inFlight?.catch(() => undefined);
    }
  }

  /** Sends the oldest gathered request; when it is answered, the next. */
  private flush(): void {
    const batch = this.queue.shift();
    if (!batch) return;
    this.requests++;
    this.inFlight = this.options.send(batch).then(
      () => {
        batch.resolve();
        this.inFlight = undefined;
        this.flush();
      },
      (e: unknown) => {
        batch.reject(e);
        // What was gathered behind a failed request is not sent after it: a key's later record
        // must not reach the log while an earlier one did not. Those callers retry, as the
        // failed request's do.
        for (const later of this.queue.splice(0)) later.reject(this.options.abandoned ? this.options.abandoned(e, later) : e);
        this.inFlight = undefined;
      },
    );
  }
}
