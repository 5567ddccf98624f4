import type {
  ConnectorApprovalDecided,
  ConnectorCancelRequested,
  ConnectorApprovalRequested,
  ConnectorCredentialsAudited,
  ConnectorHandshake,
  ConnectorSchemaChecked,
  ConnectorUpdated,
  ConnectorValidated,
} from '@preflight/events';

/** Where an input event sits on the bus: the receipt's evidence. */
export interface EventRef {
  eventId: string;
  ref: string;
}

export type ReadinessInput =
  | ConnectorHandshake
  | ConnectorSchemaChecked
  | ConnectorCredentialsAudited
  | ConnectorApprovalDecided
  | ConnectorCancelRequested
  // An update with autoPreflight starts the attempt: its changelog goes into the receipt and the policy.
  | ConnectorUpdated
  // Readiness's own outputs: read back, they restore what it had already done after a restart.
  | ConnectorApprovalRequested
  | ConnectorValidated;

/** Everything readiness knows about one preflight attempt (one correlationId). */
export interface Attempt {
  correlationId: string;
  connectorId: string;
  tenantId: string;
  /** Earliest instant known for the attempt; the preflight timeout runs from here. */
  startedAtMs: number;
  handshake?: ConnectorHandshake;
  schema?: ConnectorSchemaChecked;
  credentials?: ConnectorCredentialsAudited;
  approval?: ConnectorApprovalDecided;
  approvalRequestedAtMs?: number;
  /** The earliest cancel request: it ends the attempt unless an outcome came first. */
  cancel?: ConnectorCancelRequested;
  /** The update that started this attempt, when one did. */
  update?: ConnectorUpdated;
  evidence: EventRef[];
  /** Set once the single outcome has been emitted (or seen on the validated topic). */
  outcome?: 'READY' | 'FAILED';
}

/**
 * Whether readiness folds this event at all: an update without autoPreflight starts no attempt,
 * and an attempt of its own would only ever time out.
 */
export function foldsInto(event: ReadinessInput): boolean {
  return event.eventType !== 'connector.updated' || event.autoPreflight;
}

/** Pure fold: the attempt after one more input event. Order of arrival does not matter. */
export function evolve(attempt: Attempt | undefined, event: ReadinessInput, ref: string): Attempt {
  const occurred = Date.parse(event.occurredAt);
  const startOf = event.eventType === 'connector.handshake' ? occurred - event.durationMs : occurred;
  const base: Attempt = attempt ?? {
    correlationId: event.correlationId,
    connectorId: event.connectorId,
    tenantId: event.tenantId,
    startedAtMs: startOf,
    evidence: [],
  };
  const next: Attempt = { ...base, startedAtMs: Math.min(base.startedAtMs, startOf) };
  const own = event.eventType === 'connector.validated' || event.eventType === 'connector.approval.requested';
  if (!own && !next.evidence.some((e) => e.eventId === event.eventId)) {
    // Kept in one order whatever the arrival order, so a restored attempt, a rebuild from the log
    // and the live one are equal, and so are their receipts.
    next.evidence = [...next.evidence, { eventId: event.eventId, ref }].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }
  switch (event.eventType) {
    case 'connector.handshake':
      next.handshake = event;
      break;
    case 'connector.schema.checked':
      next.schema = event;
      break;
    case 'connector.credentials.audited':
      next.credentials = event;
      break;
    case 'connector.approval.decided':
      next.approval = event;
      break;
    case 'connector.approval.requested':
      // The approval timeout runs from the first request.
      next.approvalRequestedAtMs = Math.min(next.approvalRequestedAtMs ?? occurred, occurred);
      break;
    case 'connector.cancel.requested':
      if (!next.cancel || event.occurredAt < next.cancel.occurredAt) next.cancel = event;
      break;
    case 'connector.validated':
      next.outcome = event.status;
      break;
    case 'connector.updated':
      next.update = event;
      break;
  }
  return next;
}

/**
 * Two views of one attempt joined into one: what this instance folded in memory and what the
 * changelog holds. An attempt only ever gains facts, so the join keeps every fact either side
 * has; a restore that replaced the in-memory attempt instead dropped an input folded while the
 * changelog was being read (a handler that had passed the restore gate before a rebalance), and
 * the attempt then waited for a check that had already answered (issue 12, chaos N=300).
 * Commutative and idempotent, so the order of restores and live folds does not matter.
 */
export function mergeAttempts(a: Attempt, b: Attempt): Attempt {
  const evidence = [...a.evidence];
  for (const e of b.evidence) if (!evidence.some((x) => x.eventId === e.eventId)) evidence.push(e);
  evidence.sort((x, y) => (x.ref < y.ref ? -1 : x.ref > y.ref ? 1 : x.eventId < y.eventId ? -1 : x.eventId > y.eventId ? 1 : 0));
  const requested = [a.approvalRequestedAtMs, b.approvalRequestedAtMs].filter((t): t is number => t !== undefined);
  const merged: Attempt = {
    ...b,
    ...a,
    startedAtMs: Math.min(a.startedAtMs, b.startedAtMs),
    handshake: pick(a.handshake, b.handshake),
    schema: pick(a.schema, b.schema),
    credentials: pick(a.credentials, b.credentials),
    approval: pick(a.approval, b.approval),
    update: pick(a.update, b.update),
    cancel: pick(a.cancel, b.cancel),
    evidence,
    outcome: a.outcome && b.outcome ? (a.outcome < b.outcome ? a.outcome : b.outcome) : (a.outcome ?? b.outcome),
  };
  if (requested.length > 0) merged.approvalRequestedAtMs = Math.min(...requested);
  for (const k of Object.keys(merged) as Array<keyof Attempt>) if (merged[k] === undefined) delete merged[k];
  return merged;
}

/** Of two reports of one step, the earlier (then the smaller id): the same pick whichever side is which. */
function pick<E extends { occurredAt: string; eventId: string }>(x: E | undefined, y: E | undefined): E | undefined {
  if (!x || !y) return x ?? y;
  if (x.occurredAt !== y.occurredAt) return x.occurredAt < y.occurredAt ? x : y;
  return x.eventId <= y.eventId ? x : y;
}

/**
 * A decided attempt as it is kept for the rest of its retention (late inputs of a finished
 * attempt are recognised and dropped): its outcome and evidence, without the checks' events. Those
 * carry the contract, the checkpoint and the findings (tens of kB each) and are in the receipt
 * already; kept for ten minutes they made readiness's memory grow with every preflight (issue 14).
 */
export function settled(a: Attempt): Attempt {
  if (!a.outcome) return a;
  const kept: Attempt = { correlationId: a.correlationId, connectorId: a.connectorId, tenantId: a.tenantId, startedAtMs: a.startedAtMs, evidence: a.evidence, outcome: a.outcome };
  if (a.approvalRequestedAtMs !== undefined) kept.approvalRequestedAtMs = a.approvalRequestedAtMs;
  return kept;
}
