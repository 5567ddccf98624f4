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
