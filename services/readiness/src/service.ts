import { readFileSync } from 'node:fs';
import type avro from 'avsc';
import type { ServiceBus, MessageMeta } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import { evolve, foldsInto, mergeAttempts, settled, type Attempt, type ReadinessInput } from './attempt.js';
import { contractFacts } from './contract-facts.js';
import { decide, SERVICE_NAME, type Decision, type ReadinessSettings } from './decide.js';
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
   * Besides the changelog, how far back a start re-reads the input topics: only for upgrading a
   * group from a version without the changelog (attempts it left open are on no changelog yet).
   * Absent: the changelog alone.
   */
  recoveryWindowMs?: number;
  /** See ReadinessConfig.takeoverGraceMs; wins over `config`. */
  takeoverGraceMs?: number;
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

/** What readiness publishes; read back on restore so a decision published but not yet on the changelog is not made twice. */
const OWN_OUTPUTS = ['connector.validated', 'connector.approval.requested'] as const satisfies ReadonlyArray<ReadinessInput['eventType']>;

export const DEFAULT_SETTINGS: ReadinessSettings = {
  preflightTimeoutMs: DEFAULT_PREFLIGHT_TIMEOUT_MS,
  approvalTimeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS,
  policy: DEFAULT_APPROVAL_POLICY,
  contractFacts,
};

/** Finished attempts are forgotten after this long; late duplicates are still caught by eventId. */
const RETAIN_FINISHED_MS = 10 * 60 * 1000;

/** One attempt on the changelog (schemas/state/readiness-attempt.v1.avsc). */
interface AttemptRecord {
  correlationId: string;
  connectorId: string;
  partition: number;
  finishedAtMs: number | null;
  attemptJson: string;
}
const ATTEMPT_SCHEMA = JSON.parse(readFileSync(new URL('../../../schemas/state/readiness-attempt.v1.avsc', import.meta.url), 'utf8')) as avro.Schema;

export async function startReadinessService(options: ReadinessServiceOptions): Promise<{ stop(): Promise<void>; attempts: Map<string, Attempt>; recovery: RecoveryStats }> {
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
  const recovery: RecoveryStats = { restores: 0, changelogRecords: 0, outputRecords: 0, inputRecords: 0 };
  await bus.producer.start();

  // Attempts live in memory; the changelog makes them survive a crash and follow their
  // partition to another instance. Every change of an attempt is written there (on its input
  // partition) before the input's offset can be committed, so what the group committed past is
  // always on the changelog.
  const changelog = bus.compacted<AttemptRecord>(bus.topics.attempts, ATTEMPT_SCHEMA);
  await changelog.start();
  /**
   * What the changelog holds last for each attempt this instance wrote or restored. Folding
   * readiness's own outcome back in changes nothing, and writing the same record again changes
   * nothing on a compacted topic: that was one produce request per preflight (issue 14).
   * Restoring a partition resets its entries to what the changelog says, so a record another
   * instance wrote meanwhile is never taken for ours.
   */
  const written = new Map<string, string>();
  const recordOf = (r: AttemptRecord): string => `${r.partition}\u0000${r.finishedAtMs ?? ''}\u0000${r.attemptJson}`;
  const persist = async (id: string): Promise<void> => {
    const partition = partitionOf.get(id);
    if (partition === undefined) return;
    const a = attempts.get(id);
    const value: AttemptRecord | null = a ? { correlationId: id, connectorId: a.connectorId, partition, finishedAtMs: finishedAt.get(id) ?? null, attemptJson: JSON.stringify(a) } : null;
    if (value && written.get(id) === recordOf(value)) return;
    await changelog.write([{ key: id, partition, value }]);
    if (value) written.set(id, recordOf(value));
    else written.delete(id);
  };

  /**
   * Decisions whose publish failed. A failed publish may still have landed (the broker wrote it
   * and the answer was lost), so the retry publishes the very same events, not a new decision
   * with its own time and receipt: one decision per attempt, whatever the broker did.
   */
  const unpublished = new Map<string, Decision>();
  /**
   * Attempts whose outcome is on the log (published by this instance, read back from the topic or
   * from the changelog): final, so they are kept settled (outcome and evidence only).
   */
  const decided = new Set<string>();
  const settle = (id: string): void => {
    const a = attempts.get(id);
    if (!a?.outcome) return;
    decided.add(id);
    unpublished.delete(id);
    attempts.set(id, settled(a));
  };

  /** Decides one attempt; the new state is stored before publishing so a concurrent step sees it. */
  const step = async (id: string): Promise<boolean> => {
    const before = attempts.get(id);
    if (!before || before.outcome) return false;
    const kept = unpublished.get(id);
    const decision = kept ?? decide(before, new Date(), settings);
    const { events } = decision;
    if (events.length === 0) return false;
    // A kept decision applies to the attempt as it is now (facts may have arrived meanwhile).
    const attempt: Attempt = kept ? { ...before, ...(kept.attempt.outcome ? { outcome: kept.attempt.outcome } : {}), ...(kept.attempt.approvalRequestedAtMs !== undefined ? { approvalRequestedAtMs: kept.attempt.approvalRequestedAtMs } : {}) } : decision.attempt;
    attempts.set(id, attempt);
    try {
      await bus.producer.publish(...events);
      unpublished.delete(id);
    } catch (e) {
      unpublished.set(id, decision);
      // Undo only this decision: facts folded or restored while the publish was pending stay, and
      // an outcome read from the log meanwhile is not this decision's to undo.
      const now = attempts.get(id) ?? attempt;
      if (!decided.has(id)) {
        const undone: Attempt = { ...now, outcome: before.outcome, approvalRequestedAtMs: before.approvalRequestedAtMs };
        if (undone.outcome === undefined) delete undone.outcome;
        if (undone.approvalRequestedAtMs === undefined) delete undone.approvalRequestedAtMs;
        attempts.set(id, undone);
      }
      throw e;
    }
    if (attempt.outcome) settle(id);
    const log = logger.child({ connectorId: attempt.connectorId, correlationId: id });
    for (const e of events) {
      if (e.eventType === 'connector.validated') {
        finishedAt.set(id, Date.now());
        if (e.status === 'READY') log.info({ validatedBy: e.validatedBy, durationMs: e.durationMs }, 'connector READY');
        else log.error({ reason: e.reason, validatedBy: e.validatedBy }, `connector FAILED: ${e.reason}`);
      } else log.warn({ policy: e.eventType === 'connector.approval.requested' ? e.policy : undefined }, 'approval requested');
    }
    return true;
  };

  const fold = (event: ReadinessInput, partition: number, ref: string): void => {
    const id = event.correlationId;
    partitionOf.set(id, partition);
    attempts.set(id, evolve(attempts.get(id), event, ref));
    // A late input of a finished attempt adds nothing worth keeping.
    if (event.eventType === 'connector.validated' || decided.has(id)) settle(id);
    if (event.eventType === 'connector.validated' && !finishedAt.has(id)) finishedAt.set(id, Date.now());
  };

  const apply = async (event: ReadinessInput, meta: MessageMeta): Promise<void> => {
    await restoring;
    if (!foldsInto(event)) return;
    fold(event, meta.partition, `kafka://${meta.topic}/${meta.partition}/${meta.offset}`);
    await step(event.correlationId);
    // A crash after the decision was published and before this write restores the attempt
    // undecided: deciding it again publishes the same derived eventId, which consumers drop.
    await persist(event.correlationId);
  };

  /** Restores the attempts of some partitions from the changelog: cost bounded by what is open (or just finished) there. */
  const restore = async (partitions: Set<number>): Promise<void> => {
    const started = performance.now();
    recovery.restores++;
    for (const [id] of written) if (partitions.has(partitionOf.get(id) ?? -1)) written.delete(id);
    const { records } = await changelog.read(
      ({ key, value }) => {
        if (!value) {
          decided.delete(key);
          attempts.delete(key);
          finishedAt.delete(key);
          partitionOf.delete(key);
          written.delete(key);
          return;
        }
        written.set(key, recordOf(value));
        // Joined, not replaced: a handler that passed the restore gate before this rebalance may
        // have folded an input here that is not on the changelog yet (it writes it next).
        const stored = JSON.parse(value.attemptJson) as Attempt;
        const live = attempts.get(key);
        attempts.set(key, live ? mergeAttempts(live, stored) : stored);
        // Written after its outcome was published: final.
        if (stored.outcome) settle(key);
        partitionOf.set(key, value.partition);
        if (value.finishedAtMs !== null) finishedAt.set(key, value.finishedAtMs);
      },
      async (source, reason) => {
        // One bad record must not keep readiness from starting; it is set aside with the reason.
        await bus.deadLetter(source, reason, groupId);
      },
      { partitions },
    );
    recovery.changelogRecords += records;
    if (recoveryWindowMs !== undefined) await recoverInputs(partitions);
    await recoverOwnOutputs(partitions);
    const open = [...attempts.values()].filter((a) => !a.outcome).length;
    logger.info({ records, attempts: attempts.size, open, partitions: [...partitions], ms: Math.round(performance.now() - started) }, `${SERVICE_NAME} restored ${open} open attempt(s) from its changelog`);
  };

  const groupId = options.groupId ?? serviceGroupId(bus.topics.prefix, SERVICE_NAME);
  const inputTopics = INPUTS.map((t) => bus.topics.of(t));
  const recoveryWindowMs = options.recoveryWindowMs ?? config.recoveryWindowMs;
  /** Upgrades only: rebuilds attempts of some partitions from a window of the input topics. */
  /** Folds readiness's events of some topics' partitions since an instant, those `keep` accepts; returns the records read. */
  const foldFromLog = async (topics: string[], partitions: Set<number>, sinceMs: number, keep: (e: ReadinessInput) => boolean): Promise<number> => {
    const { records } = await bus.readTopics(
      topics,
      async (topic, partition, offset, value) => {
        let event: ReadinessInput;
        try {
          event = (await bus.codec.decode(value, bus.topics.typeOf(topic)!)) as ReadinessInput;
        } catch {
          return; // the live consumer dead-letters it with the reason
        }
        if (keep(event)) fold(event, partition, `kafka://${topic}/${partition}/${offset}`);
      },
      { sinceMs, partitions },
    );
    return records;
  };
  const recoverInputs = async (partitions: Set<number>): Promise<void> => {
    recovery.inputRecords += await foldFromLog(inputTopics, partitions, Date.now() - (recoveryWindowMs ?? 0), foldsInto);
  };

  /**
   * A crash between publishing a decision (an outcome, an approval request) and writing it to the
   * changelog restores the attempt without it. Readiness's own outputs on those partitions, since
   * the oldest open attempt began, say what was already decided: folded in, nothing is decided
   * twice. The read is bounded by the open attempts' age, not by a fixed window.
   */
  const recoverOwnOutputs = async (partitions: Set<number>): Promise<void> => {
    const open = [...attempts.values()].filter((a) => !a.outcome && partitions.has(partitionOf.get(a.correlationId) ?? -1));
    if (open.length === 0) return;
    const sinceMs = Math.min(...open.map((a) => a.startedAtMs)) - 60_000;
    const ids = new Set(open.map((a) => a.correlationId));
    recovery.outputRecords += await foldFromLog(OWN_OUTPUTS.map((t) => bus.topics.of(t)), partitions, sinceMs, (e) => ids.has(e.correlationId));
  };

  const handlers = Object.fromEntries(INPUTS.map((t) => [t, apply])) as { [T in (typeof INPUTS)[number]]: typeof apply };
  const consumer = bus.consumer({
    groupId,
    partitionsConsumedConcurrently: 6,
    keyConcurrency: 8,
    handlers,
  });
  // Every partition this instance gets (at its first join too) may hold attempts whose earlier
  // inputs were consumed by another instance or before a restart: restore them before handling
  // the partition's messages.
  let restoring: Promise<void> = Promise.resolve();
  let stopped = false;
  // Handling a gained partition's messages without its attempts would decide them wrongly (time
  // out what is done, decide twice): a restore that fails (a broker down) is retried, and the
  // partition's messages wait for it.
  const restoreUntilDone = async (partitions: Set<number>): Promise<void> => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        return await restore(partitions);
      } catch (e) {
        logger.warn({ err: e, partitions: [...partitions], attempt }, 'could not restore the attempts of newly assigned partitions; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
      }
    }
  };
  let joined!: () => void;
  const firstJoin = new Promise<void>((r) => (joined = r));
  consumer.consumer.on(consumer.consumer.events.GROUP_JOIN, ({ payload }) => {
    const next = new Set(Object.entries(payload.memberAssignment).filter(([t]) => inputTopics.includes(t)).flatMap(([, ps]) => ps));
    // Every assigned partition, also one held before the join: a member whose session expired
    // under load gets its partitions back after another instance may have moved their attempts on.
    const assigned = [...next];
    // Partitions moved from another instance: an instance evicted while deciding does not know it
    // yet and may still publish the decision; restoring after the grace folds it in instead of
    // deciding again. Not at the first join (a start takes partitions from a new or dead group).
    const moved = owned !== undefined && assigned.some((p) => !owned!.has(p));
    owned = next;
    const grace = moved ? (options.takeoverGraceMs ?? config.takeoverGraceMs) : 0;
    if (assigned.length > 0) restoring = restoring.then(async () => {
      if (grace > 0) await new Promise((r) => setTimeout(r, grace));
      await restoreUntilDone(new Set(assigned));
    });
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
        const partition = partitionOf.get(id);
        const mine = owned !== undefined && (partition === undefined || owned.has(partition));
        if (a.outcome) {
          if (now - (finishedAt.get(id) ?? now) > RETAIN_FINISHED_MS) {
            attempts.delete(id);
            decided.delete(id);
            unpublished.delete(id);
            finishedAt.delete(id);
            // The owner tombstones it, so compaction drops it from the changelog.
            if (mine && partition !== undefined) await changelog.write([{ key: id, partition, value: null }]).catch((e: unknown) => logger.warn({ err: e, correlationId: id }, 'could not forget a finished attempt on the changelog; will on a later pass'));
            partitionOf.delete(id);
            written.delete(id);
          }
          continue;
        }
        if (!mine) continue; // another instance's attempt
        try {
          if (await step(id)) await persist(id);
        } catch (e) {
          logger.warn({ err: e, correlationId: id }, 'timeout check failed; will retry');
        }
      }
    })().finally(() => {
      ticking = false;
    });
  }, options.tickMs ?? 250);

  logger.info({ preflightTimeoutMs: settings.preflightTimeoutMs }, `${SERVICE_NAME} service started`);
  return {
    attempts,
    recovery,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await consumer.stop();
    },
  };
}

/** What restoring cost so far: changelog records, own outputs since the oldest open attempt, input records (upgrade window only). */
export interface RecoveryStats {
  restores: number;
  changelogRecords: number;
  outputRecords: number;
  inputRecords: number;
}
