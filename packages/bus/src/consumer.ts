import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { SpanKind, context as otelContext, trace } from '@opentelemetry/api';
import { contextFromTraceparent, METRIC, PreflightError, toPreflightError, type Logger } from '@preflight/core';
import type { ConnectorEvent, EventOf, EventType, Topics } from '@preflight/events';
import type { EventCodec } from './codec.js';
import { MemoryDedupeStore, type DedupeStore } from './dedupe.js';
import { CoPartitionedAssigner } from './assigner.js';
import { timingsFor, type GroupTimings } from './group.js';
import { retryRetriable } from './retry.js';
import { headerString } from './headers.js';
import { deadLetterMessage } from './dead-letter.js';
import { PublishedOutputs } from './published.js';
import { isFenced, noteHeartbeatError, withLease, type Lease } from './lease.js';
import { readTopics } from './reader.js';

export interface MessageMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: IHeaders;
}

export type Handlers = { [T in EventType]?: (event: EventOf<T>, meta: MessageMeta) => Promise<void> };

export interface RetryPolicy {
  attempts: number;
  initialMs: number;
  maxMs: number;
}

export interface ConsumerStats {
  handled: number;
  duplicates: number;
  deadLettered: number;
  retries: number;
}

export interface EventConsumerOptions {
  kafka: Kafka;
  codec: EventCodec;
  topics: Topics;
  groupId: string;
  handlers: Handlers;
  logger: Logger;
  dedupe?: DedupeStore;
  /**
   * The event types the handlers publish in answer to a handled event, with ids derived from it
   * (`causedBy(input, producer, { outputType })`). With them, after every join a member first
   * reads what was published for its partitions' unfinished messages, and skips those already
   * answered: a crash between publishing and committing does not run a handler's side effects twice.
   */
  outputs?: readonly EventType[];
  retry?: Partial<RetryPolicy>;
  fromBeginning?: boolean;
  /** Partitions handled in parallel. */
  partitionsConsumedConcurrently?: number;
  /**
   * Messages of one partition handled at once, never two with the same key, so each
   * connector's events keep their order (the key is the connector id). 1 (the default) handles
   * a partition strictly in order. Offsets still only move past messages that are done.
   */
  keyConcurrency?: number;
  /** How long the group waits for a crashed member before handing its partitions on. */
  sessionTimeoutMs?: number;
  /** The process's group timings (its bus config); absent: the defaults. */
  timings?: GroupTimings;
  /** Called after a message is dead-lettered, for metrics and tests. */
  onDeadLetter?: (info: { topic: string; reason: PreflightError }) => void;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialMs: 100, maxMs: 5_000 };

/**
 * Runs typed handlers over the catalog topics. A message's offset is resolved only after its
 * handler succeeded or it was dead-lettered, so a crash re-delivers what was in flight and nothing
 * is lost; handled eventIds are remembered so a re-delivery has no second side effect.
 */
export class EventConsumer {
  readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly dedupe: DedupeStore;
  private readonly published: PublishedOutputs | undefined;
  /** Events being handled in this process, by eventId. */
  private readonly handling = new Map<string, Promise<boolean>>();
  private readonly retry: RetryPolicy;
  private stopping = false;
  private running = false;
  readonly stats: ConsumerStats = { handled: 0, duplicates: 0, deadLettered: 0, retries: 0 };
  /** Output reads after joins, ids read, and inputs skipped as already answered. */
  get outputStats(): { reads: number; ids: number; skipped: number } | undefined {
    return this.published?.stats;
  }

  constructor(private readonly options: EventConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      ...timingsFor(options.sessionTimeoutMs ?? options.timings?.sessionTimeout ?? 6_000, options.timings?.rebalanceTimeout ?? 20_000),
      partitionAssigners: [CoPartitionedAssigner],
      maxWaitTimeInMs: 100,
    });
    this.dlqProducer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.dedupe = options.dedupe ?? new MemoryDedupeStore();
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    const outputs = options.outputs ?? [];
    if (outputs.length > 0) {
      const outputTopics = outputs.map((t) => options.topics.of(t));
      this.published = new PublishedOutputs(outputs, async (partitions, sinceMs, onId) => {
        await readTopics(options.kafka, outputTopics, (_t, _p, _o, _v, _k, _ts, headers) => {
          const id = headerString(headers, 'ce_id');
          if (id) onId(id);
        }, { sinceMs, partitions });
      }, 20, options.timings?.takeoverGrace ?? 0);
      this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => this.published?.assigned(payload.memberAssignment));
    }
  }

  async start(): Promise<void> {
    const types = Object.keys(this.options.handlers) as EventType[];
    await this.dlqProducer.connect();
    await this.consumer.connect();
    await retryRetriable(() => this.consumer.subscribe({ topics: types.map((t) => this.options.topics.of(t)), fromBeginning: this.options.fromBeginning ?? true }));
    this.running = true;
    await this.consumer.run({
      autoCommit: true,
      // Commit as soon as a message is done, not only when its batch is: after a kill -9 the next
      // owner of the partition redelivers at most what was in flight, not the rest of the batch.
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => {
        const lease: Lease = { lost: false };
        return keepAlive(payload, () => withLease(lease, async () => {
          const { batch } = payload;
          const first = batch.messages[0];
          if (this.published && first) await this.readPublished(batch.topic, batch.partition, Number(first.timestamp));
          if ((this.options.keyConcurrency ?? 1) > 1) {
            await this.handleBatchByKey(payload, this.options.keyConcurrency ?? 1, lease);
            await payload.commitOffsetsIfNecessary();
            return;
          }
          for (const message of batch.messages) {
            if (!payload.isRunning() || payload.isStale() || this.stopping) break;
            const done = await this.handleOne(batch.topic, batch.partition, message);
            if (!done) break; // shutting down mid-retry: leave it for the next owner of the partition
            payload.resolveOffset(message.offset);
            await payload.commitOffsetsIfNecessary();
            await payload.heartbeat();
          }
          await payload.commitOffsetsIfNecessary();
        }), (e) => noteHeartbeatError(lease, e));
      },
    });
  }

  /**
   * Handles a batch with up to `limit` messages in flight, chained per key so one key's messages
   * run in order, and resolves the offset only up to the longest prefix of finished messages: a
   * crash or a stop re-delivers everything after the first unfinished one, as in order mode.
   *
   * The crash bound: no message starts more than `2 × limit` places past the last offset whose
   * commit the broker acknowledged, so a kill -9 repeats at most that many, whatever the handlers'
   * durations and the commit round trip. Without it, messages finished behind a slow one and those
   * resolved while a commit was in flight added up past the limit (a CI run repeated 12 with 8).
   */
  private async handleBatchByKey(payload: EachBatchPayload, limit: number, lease: Lease): Promise<void> {
    const { batch } = payload;
    const messages = batch.messages;
    const finished = new Array<boolean>(messages.length).fill(false);
    let prefix = 0;
    let halted = false;
    let failure: unknown;
    let rejoin: Error | undefined;
    const tails = new Map<string, Promise<void>>();
    const inFlight = new Set<Promise<void>>();
    // One commit at a time, each taking whatever prefix is resolved by then.
    let commits = Promise.resolve();
    /** Messages before this index are committed (the broker acknowledged it). */
    let committed = 0;
    let commitsPending = 0;
    const window = 2 * limit;
    for (let i = 0; i < messages.length; i++) {
      while (!halted && (inFlight.size >= limit || i - committed >= window)) {
        // Wait for a message or a commit to finish; a settled chain would make this loop spin.
        const waits: Array<Promise<void>> = [...inFlight, ...(commitsPending > 0 ? [commits] : [])];
        if (waits.length === 0) break;
        await Promise.race(waits);
      }
      if (halted || !payload.isRunning() || payload.isStale() || this.stopping) break;
      try {
        // Before starting a message (kafkajs sends at most one per heartbeat interval).
        await payload.heartbeat();
      } catch (e) {
        // A rebalance (or a lost membership) is reported here. Returning now would let kafkajs
        // rejoin while this batch's handlers run on: the partition's next owner would handle the
        // same messages beside them (seen in chaos: one schema check run by two instances at once).
        // So start nothing more, let what runs finish and commit, then hand kafkajs its error.
        noteHeartbeatError(lease, e);
        rejoin = e instanceof Error ? e : new Error(String(e));
        halted = true; // what is queued behind a running message of its key does not start either
        break;
      }
      const message = messages[i]!;
      // A message without a key has no order to keep; it gets its own chain.
      const key = message.key ? message.key.toString('base64') : `#${i}`;
      const run = async (): Promise<void> => {
        // Queued behind its key's previous message: re-check, the partition may have moved on.
        if (halted || !payload.isRunning() || payload.isStale() || this.stopping) return;
        try {
          if (!(await this.handleOne(batch.topic, batch.partition, message))) {
            halted = true; // shutting down mid-retry: this message stays for the next owner
            return;
          }
        } catch (e) {
          halted = true;
          failure ??= e;
          return;
        }
        finished[i] = true;
        while (prefix < messages.length && finished[prefix]) prefix++;
        if (prefix > 0) {
          const upTo = prefix;
          payload.resolveOffset(messages[upTo - 1]!.offset);
          commitsPending++;
          commits = commits
            .then(() => payload.commitOffsetsIfNecessary())
            .then(
              () => void (committed = Math.max(committed, upTo)),
              // A commit refused (a rebalance) starts nothing more: what is not committed is the
              // next owner's, and waiting for the window to move would wait for good.
              () => void (halted = true),
            )
            .finally(() => void commitsPending--);
        }
      };
      const task = (tails.get(key) ?? Promise.resolve()).then(run);
      tails.set(key, task);
      inFlight.add(task);
      void task.finally(() => {
        inFlight.delete(task);
        if (tails.get(key) === task) tails.delete(key);
      });
    }
    await Promise.all(inFlight);
    await commits;
    if (rejoin !== undefined) throw rejoin;
    await payload.heartbeat();
    // As in order mode, an error kafkajs should see (a dead-letter write that failed) fails the batch.
    if (failure !== undefined) throw toPreflightError(failure);
  }

  private async readPublished(topic: string, partition: number, sinceMs: number): Promise<void> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.published!.ready(topic, partition, sinceMs);
        break;
      } catch (e) {
        // Past a few tries the batch goes on without them: the in-memory dedupe still holds, and a
        // redelivered message that runs again publishes the same derived ids, which consumers drop.
        this.options.logger.warn({ err: toPreflightError(e).toJSON(), topic, partition, attempt }, 'could not read the outputs already published for a gained partition');
        if (attempt >= 4 || this.stopping) return;
        await sleep(500 * 2 ** attempt);
      }
    }
    const ms = performance.now() - started;
    if (ms > 1) this.options.logger.debug({ topic, partition, ms: Math.round(ms) }, 'read the outputs published for a gained partition');
  }

  /** Finishes the message in hand, commits, and leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.running = false;
    await this.consumer.disconnect();
    await this.dlqProducer.disconnect();
  }

  /** Returns false only when shutdown interrupted a retry, so the offset must not move. */
  private async handleOne(topic: string, partition: number, message: KafkaMessage): Promise<boolean> {
    const eventType = this.options.topics.typeOf(topic);
    const meta: MessageMeta = { topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, headers: message.headers ?? {} };
    if (!eventType) {
      await this.deadLetter(meta, message, new PreflightError('DECODE', `topic ${topic} carries no known event type`, { retriable: false }));
      return true;
    }
    let event: ConnectorEvent;
    try {
      event = await this.options.codec.decode(message.value, eventType);
    } catch (e) {
      const err = toPreflightError(e, 'DECODE');
      if (err.retriable) return this.retryDecode(meta, message, eventType);
      await this.deadLetter(meta, message, err);
      return true;
    }
    return this.dispatch(event, meta, message);
  }

  private async retryDecode(meta: MessageMeta, message: KafkaMessage, eventType: EventType): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) return false;
      await sleep(this.backoff(attempt));
      try {
        const event = await this.options.codec.decode(message.value, eventType);
        return this.dispatch(event, meta, message);
      } catch (e) {
        const err = toPreflightError(e, 'DECODE');
        if (!err.retriable || attempt >= this.retry.attempts) {
          await this.deadLetter(meta, message, err);
          return true;
        }
      }
    }
  }

  private async dispatch(event: ConnectorEvent, meta: MessageMeta, message: KafkaMessage): Promise<boolean> {
    // The same event can be delivered again while this process is still handling it: kafkajs
    // restarts a consumer that crashed (a broker gone past its retries) and refetches from the
    // committed offset while the old batch's handlers run on. Wait for that handling instead of
    // running a second one beside it (a second session on the source).
    const running = this.handling.get(event.eventId);
    if (running) await running.catch(() => undefined);
    const handled = this.handleNew(event, meta, message);
    this.handling.set(event.eventId, handled);
    try {
      return await handled;
    } finally {
      if (this.handling.get(event.eventId) === handled) this.handling.delete(event.eventId);
    }
  }

  private async handleNew(event: ConnectorEvent, meta: MessageMeta, message: KafkaMessage): Promise<boolean> {
    const { logger } = this.options;
    if (this.dedupe.has(event.eventId) || this.published?.answered(event.eventId)) {
      this.stats.duplicates++;
      logger.debug({ eventId: event.eventId, metric: METRIC.events_duplicate_total }, 'duplicate event skipped');
      return true;
    }
    const handler = this.options.handlers[event.eventType] as ((e: ConnectorEvent, m: MessageMeta) => Promise<void>) | undefined;
    if (!handler) return true;
    const parent = contextFromTraceparent(headerString(meta.headers, 'traceparent') ?? event.traceparent);
    const tracer = trace.getTracer('connector-preflight');
    for (let attempt = 1; ; attempt++) {
      const span = tracer.startSpan(
        `process ${event.eventType}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.destination.name': meta.topic,
            'messaging.kafka.partition': meta.partition,
            'messaging.kafka.offset': meta.offset,
            'messaging.consumer.group.name': this.options.groupId,
            'preflight.connector_id': event.connectorId,
            'preflight.correlation_id': event.correlationId,
          },
        },
        parent,
      );
      try {
        await otelContext.with(trace.setSpan(parent, span), () => handler(event, meta));
        span.end();
        this.dedupe.add(event.eventId);
        this.stats.handled++;
        return true;
      } catch (e) {
        const err = toPreflightError(e);
        span.recordException(err);
        span.end();
        if (isFenced(err)) {
          // Not this member's message any more: no retry, no dead letter, the offset stays.
          logger.warn({ eventId: event.eventId, topic: meta.topic, partition: meta.partition }, 'lost the partition while handling; its answer is left to the new owner');
          return false;
        }
        const log = logger.child({ connectorId: event.connectorId, correlationId: event.correlationId, eventId: event.eventId, topic: meta.topic });
        // The bus itself failing (a publish that could not be written while brokers move) says
        // nothing about the message: it is retried until it goes through or this member stops,
        // never dead-lettered. Dead-lettering it lost the input, and with it the attempt (chaos).
        const busDown = err.code === 'BUS' && err.retriable;
        if (!err.retriable || (attempt >= this.retry.attempts && !busDown)) {
          log.error({ err: err.toJSON(), attempt }, `handler failed (${err.code}); dead-lettering`);
          await this.deadLetter(meta, message, err);
          return true;
        }
        this.stats.retries++;
        log.warn({ err: err.toJSON(), attempt }, `handler failed (${err.code}); retrying`);
        if (this.stopping) return false;
        await sleep(this.backoff(attempt));
        if (this.stopping) return false;
      }
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** (attempt - 1));
    return base / 2 + Math.random() * (base / 2);
  }

  /** The original bytes and headers go to `<topic>.dlq`, with why and where from in `dlq_*` headers. */
  private async deadLetter(meta: MessageMeta, message: KafkaMessage, reason: PreflightError): Promise<void> {
    await this.dlqProducer.send({
      topic: this.options.topics.dlq(meta.topic),
      acks: -1,
      messages: [deadLetterMessage({ ...meta, key: message.key, value: message.value }, reason, this.options.groupId, new Date())],
    });
    this.stats.deadLettered++;
    this.options.logger.warn(
      { topic: meta.topic, partition: meta.partition, offset: meta.offset, code: reason.code, metric: METRIC.events_dead_lettered_total },
      `message dead-lettered: ${reason.message}`,
    );
    this.options.onDeadLetter?.({ topic: meta.topic, reason });
  }
}

/**
 * kafkajs heartbeats only from its fetch loop and when a handler calls `heartbeat()`: one slow
 * message (a source that takes seconds to answer) would otherwise let the short session timeout
 * expire and evict a live member. Heartbeats go out every second while the batch runs (kafkajs
 * sends one at most every heartbeat interval however often it is called).
 */
export async function keepAlive<T>(payload: Pick<EachBatchPayload, 'heartbeat'>, work: () => Promise<T>, onError?: (e: unknown) => void): Promise<T> {
  const timer = setInterval(() => void payload.heartbeat().catch((e: unknown) => onError?.(e)), 1_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
