import type { ServiceBus, MessageMeta } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import { evolve, foldsInto, type Attempt, type ReadinessInput } from './attempt.js';
import { contractFacts } from './contract-facts.js';
import { decide, SERVICE_NAME, type ReadinessSettings } from './decide.js';
import { DEFAULT_APPROVAL_POLICY } from './policy.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS, DEFAULT_PREFLIGHT_TIMEOUT_MS, readinessConfig, type ReadinessConfig } from './config.js';

export interface ReadinessServiceOptions {
  bus: ServiceBus;
  logger: Logger;
  groupId?: string;
  settings?: Partial<ReadinessSettings>;
  /** How often pending attempts are checked against their timeouts. */
  tickMs?: number;
  /**
   * How far back, at start, the input topics are re-read to rebuild the attempts still in flight.
   * Default: the longest an attempt can stay open (preflight or approval timeout) plus five minutes.
   */
  recoveryWindowMs?: number;
  /** Readiness's settings, read once at start (main passes them); `settings` and `recoveryWindowMs` win over them. */
  config?: ReadinessConfig;
}

/** What readiness folds, in one place: the live consumer and the recovery read the same topics. */
const INPUTS = [
  'connector.handshake',
  'connector.schema.checked',
  'connector.credentials.audited',
  'connector.approval.decided',
  'connector.approval.requested',
  'connector.validated',
  'connector.cancel.requested',
  'connector.updated',
] as const satisfies ReadonlyArray<ReadinessInput['eventType']>;

export const DEFAULT_SETTINGS: ReadinessSettings = {
  preflightTimeoutMs: DEFAULT_PREFLIGHT_TIMEOUT_MS,
  approvalTimeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS,
  policy: DEFAULT_APPROVAL_POLICY,
  contractFacts,
};

/** Finished attempts are forgotten after this long; late duplicates are still caught by eventId. */
const RETAIN_FINISHED_MS = 10 * 60 * 1000;

export async function startReadinessService(options: ReadinessServiceOptions): Promise<{ stop(): Promise<void>; attempts: Map<string, Attempt> }> {
  const { bus, logger } = options;
  const config = options.config ?? readinessConfig();
  const settings: ReadinessSettings = {
    ...DEFAULT_SETTINGS,
    contractFacts: (yaml) => contractFacts(yaml, logger),
    preflightTimeoutMs: config.preflightTimeoutMs,
    approvalTimeoutMs: config.approvalTimeoutMs,
    ...options.settings,
  };
  const attempts = new Map<string, Attempt>();
  const finishedAt = new Map<string, number>();
  /**
   * The input partition of each attempt (the key is the connector id and every input topic has
   * the same partition count, so it is the same in all of them), and the partitions this instance
   * owns: with several instances only the owner of an attempt's partition may time it out, else
   * two instances could each emit an outcome for it.
   */
  const partitionOf = new Map<string, number>();
  let owned: Set<number> | undefined;
  await bus.producer.start();

  /** Decides one attempt; the new state is stored before publishing so a concurrent step sees it. */
  const step = async (id: string): Promise<void> => {
    const before = attempts.get(id);
    if (!before || before.outcome) return;
    const { attempt, events } = decide(before, new Date(), settings);
    if (events.length === 0) return;
    attempts.set(id, attempt);
    try {
      await bus.producer.publish(...events);
    } catch (e) {
      attempts.set(id, before);
      throw e;
    }
    const log = logger.child({ connectorId: attempt.connectorId, correlationId: id });
    for (const e of events) {
      if (e.eventType === 'connector.validated') {
        finishedAt.set(id, Date.now());
        if (e.status === 'READY') log.info({ validatedBy: e.validatedBy, durationMs: e.durationMs }, 'connector READY');
        else log.error({ reason: e.reason, validatedBy: e.validatedBy }, `connector FAILED: ${e.reason}`);
      } else log.warn({ policy: e.eventType === 'connector.approval.requested' ? e.policy : undefined }, 'approval requested');
    }
  };

  const apply = async (event: ReadinessInput, meta: MessageMeta): Promise<void> => {
    await restoring;
    if (!foldsInto(event)) return;
    const id = event.correlationId;
    partitionOf.set(id, meta.partition);
    attempts.set(id, evolve(attempts.get(id), event, `kafka://${meta.topic}/${meta.partition}/${meta.offset}`));
    if (event.eventType === 'connector.validated') finishedAt.set(id, Date.now());
    await step(id);
  };

  // Attempts live in memory, and the group's committed offsets have moved past the inputs of
  // attempts that were still open when the previous instance stopped. The topics are the store:
  // re-reading the recent window rebuilds exactly those attempts (evolve is idempotent, and our
  // own approval requests and outcomes mark what was already done), so nothing in flight is
  // forgotten and nothing decided is decided again.
  // A group that never committed starts at the beginning of its topics and sees everything
  // anyway; only a restarted one has inputs behind its offsets.
  const groupId = options.groupId ?? serviceGroupId(bus.topics.prefix, SERVICE_NAME);
  const inputTopics = INPUTS.map((t) => bus.topics.of(t));
  const recoveryWindowMs = options.recoveryWindowMs ?? config.recoveryWindowMs ?? Math.max(settings.preflightTimeoutMs, settings.approvalTimeoutMs) + 5 * 60_000;
  /** Rebuilds the attempts of some partitions (all when omitted) from the recent window of the inputs. */
  const recover = async (partitions?: Set<number>): Promise<void> => {
    const recoveryStarted = performance.now();
    const { records } = await bus.readTopics(
      inputTopics,
      async (topic, partition, offset, value) => {
        if (partitions && !partitions.has(partition)) return;
        const type = bus.topics.typeOf(topic) as ReadinessInput['eventType'];
        let event: ReadinessInput;
        try {
          event = (await bus.codec.decode(value, type)) as ReadinessInput;
        } catch {
          return; // the live consumer dead-letters it with the reason
        }
        if (!foldsInto(event)) return;
        const id = event.correlationId;
        partitionOf.set(id, partition);
        attempts.set(id, evolve(attempts.get(id), event, `kafka://${topic}/${partition}/${offset}`));
        if (event.eventType === 'connector.validated') finishedAt.set(id, Date.now());
      },
      { sinceMs: Date.now() - recoveryWindowMs },
    );
    const open = [...attempts.values()].filter((a) => !a.outcome).length;
    logger.info({ records, attempts: attempts.size, open, partitions: partitions ? [...partitions] : 'all', recoveryWindowMs, ms: Math.round(performance.now() - recoveryStarted) }, `${SERVICE_NAME} recovered ${open} open attempt(s) from the log`);
  };
  // A group that never committed starts at the beginning of its topics and sees everything anyway.
  const committed = await bus.groupHasCommitted(groupId, inputTopics);

  const handlers = Object.fromEntries(INPUTS.map((t) => [t, apply])) as { [T in (typeof INPUTS)[number]]: typeof apply };
  const consumer = bus.consumer({
    groupId,
    partitionsConsumedConcurrently: 6,
    keyConcurrency: 8,
    handlers,
  });
  // Every partition this instance gets (at its first join too: between a recovery before joining
  // and the join, another instance may have consumed and committed inputs of its attempts) arrives
  // with attempts whose earlier inputs were consumed elsewhere: rebuild them before handling its
  // messages.
  let restoring: Promise<void> = Promise.resolve();
  let joined!: () => void;
  const firstJoin = new Promise<void>((r) => (joined = r));
  consumer.consumer.on(consumer.consumer.events.GROUP_JOIN, ({ payload }) => {
    const next = new Set(Object.entries(payload.memberAssignment).filter(([t]) => inputTopics.includes(t)).flatMap(([, ps]) => ps));
    const gained = [...next].filter((p) => !owned?.has(p));
    const first = owned === undefined;
    owned = next;
    if (gained.length > 0 && (committed || !first)) restoring = restoring.then(() => recover(new Set(gained))).catch((e: unknown) => logger.warn({ err: e, partitions: gained }, 'could not rebuild the attempts of newly assigned partitions'));
    joined();
  });
  await consumer.start();
  await firstJoin;
  await restoring;

  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void (async () => {
      const now = Date.now();
      for (const [id, a] of attempts) {
        if (a.outcome) {
          if (now - (finishedAt.get(id) ?? now) > RETAIN_FINISHED_MS) {
            attempts.delete(id);
            finishedAt.delete(id);
            partitionOf.delete(id);
          }
          continue;
        }
        const partition = partitionOf.get(id);
        if (!owned || (partition !== undefined && !owned.has(partition))) continue; // another instance's attempt
        await step(id).catch((e: unknown) => logger.warn({ err: e, correlationId: id }, 'timeout check failed; will retry'));
      }
    })().finally(() => {
      ticking = false;
    });
  }, options.tickMs ?? 250);

  logger.info({ preflightTimeoutMs: settings.preflightTimeoutMs }, `${SERVICE_NAME} service started`);
  return {
    attempts,
    stop: async () => {
      clearInterval(timer);
      await consumer.stop();
    },
  };
}
