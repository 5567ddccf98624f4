import type { ConnectorEvent, ConnectorSpec } from '@preflight/events';

export const CONNECTOR_STATES = ['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL', 'READY', 'FAILED'] as const;
export type ConnectorStatus = (typeof CONNECTOR_STATES)[number];

export interface HistoryEntry {
  at: string;
  eventType: string;
  eventId: string;
  attemptId: string;
  status: string | null;
  summary: string;
}

export interface IncidentView {
  incidentId: string;
  connectorId: string;
  tenantId: string;
  kind: string;
  severity: string;
  summary: string;
  openedAt: string;
  attemptId: string;
  delivery: string | null;
  /** Attempts that hit this problem (same fingerprint, same incident id); the newest last. */
  occurrences: number;
  lastSeenAt: string;
  lastAttemptId: string;
  /** Set once a later READY attempt showed the problem gone. */
  resolvedAt?: string;
}

export interface AlertView {
  alertId: string;
  connectorId: string;
  tenantId: string;
  kind: string;
  severity: string;
  summary: string;
  raisedAt: string;
  attemptId: string;
}

export interface ReceiptView {
  attemptId: string;
  status: 'READY' | 'FAILED';
  reason: string | null;
  validatedBy: string;
  validatedAt: string;
  durationMs: number;
  yaml: string;
}

/** What the projector keeps per preflight attempt: enough to derive the connector's state. */
export interface AttemptView {
  attemptId: string;
  startedAt: string;
  handshake: 'COMPLETED' | 'FAILED' | null;
  approval: { policy: string; requiredRole: string; reason: string } | null;
  outcome: ReceiptView | null;
}

export interface ConnectorState {
  connectorId: string;
  tenantId: string;
  name: string;
  sourceType: string;
  environment: string;
  status: ConnectorStatus;
  spec: ConnectorSpec;
  /** occurredAt of the event the spec came from: the newest spec wins. */
  specAt: string;
  /** Whether a registration was seen (a connector can be known from other events first). */
  registered: boolean;
  registeredAt: string;
  updatedAt: string;
  attempts: number;
  lastAttemptId: string | null;
  lastReceipt: ReceiptView | null;
  /** Set while the current attempt waits for a person's approval. */
  pendingApproval: { policy: string; requiredRole: string; reason: string; attemptId: string } | null;
  openIncidents: IncidentView[];
  /** The newest incidents a later READY attempt resolved. */
  resolvedIncidents?: IncidentView[];
  alerts: AlertView[];
  history: HistoryEntry[];
  /** The most recent attempts by start time. */
  attemptLog: AttemptView[];
}

const HISTORY_LIMIT = 100;
const ALERT_LIMIT = 20;

function summarize(e: ConnectorEvent): { status: string | null; summary: string } {
  switch (e.eventType) {
    case 'connector.registered':
      return { status: null, summary: `registered by ${e.actor}${e.autoPreflight ? ' (auto preflight)' : ''}` };
    case 'connector.handshake.requested':
      return { status: null, summary: `preflight requested by ${e.actor}${e.reason ? `: ${e.reason}` : ''}` };
    case 'connector.handshake':
      return { status: e.status, summary: e.status === 'COMPLETED' ? `${e.serverVersion ?? 'source'}${e.tls?.enabled ? ` over ${e.tls.protocol ?? 'TLS'}` : ''} in ${Math.round(e.durationMs)} ms` : `${e.error?.code}: ${e.error?.message}` };
    case 'connector.schema.checked':
      return { status: e.status, summary: e.error ? `${e.error.code}: ${e.error.message}` : `${e.diff.filter((d) => d.severity === 'ERROR').length} difference(s), ${e.checkpoint ? `${e.checkpoint.successfulExpectations}/${e.checkpoint.evaluatedExpectations} expectations met` : 'no checkpoint'}` };
    case 'connector.credentials.audited':
      return { status: e.status, summary: e.error ? `${e.error.code}: ${e.error.message}` : e.findings.filter((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL').map((f) => f.code).join(', ') || 'least privilege' };
    case 'connector.validated':
      return { status: e.status, summary: `${e.status}${e.reason ? ` (${e.reason})` : ''} — ${e.validatedBy}` };
    case 'connector.incident.opened':
      return { status: e.severity, summary: `incident ${e.incidentId}: ${e.summary}` };
    case 'connector.alert.raised':
      return { status: e.severity, summary: `alert ${e.alertId}: ${e.summary}` };
    case 'connector.approval.requested':
      return { status: null, summary: `approval by ${e.requiredRole} required (${e.policy})` };
    case 'connector.approval.decided':
      return { status: e.decision, summary: `${e.decision} by ${e.actor}` };
    case 'connector.cancel.requested':
      return { status: null, summary: `cancel requested by ${e.actor}${e.reason ? `: ${e.reason}` : ''}` };
  }
}

const ATTEMPT_LIMIT = 20;
const RESOLVED_LIMIT = 20;
/** Events that belong to a preflight attempt (besides a request and an auto-preflight registration). */
const ATTEMPT_EVENTS: ReadonlySet<string> = new Set(['connector.handshake', 'connector.schema.checked', 'connector.credentials.audited', 'connector.approval.requested', 'connector.approval.decided', 'connector.validated']);

const byTimeThenEvent = (x: HistoryEntry, y: HistoryEntry): number => x.at.localeCompare(y.at) || x.eventId.localeCompare(y.eventId);
const byStartThenAttempt = (x: AttemptView, y: AttemptView): number => x.startedAt.localeCompare(y.startedAt) || x.attemptId.localeCompare(y.attemptId);

/**
 * `[...sorted, item].sort(cmp).slice(-limit)` without the sort: the list is already in order (every
 * state was built by this function), and a new event is nearly always the newest, so the scan
 * from the end stops at once. Ties keep the new item last, as the stable sort did.
 */
export function insertSorted<T>(sorted: readonly T[], item: T, cmp: (a: T, b: T) => number, limit: number): T[] {
  let at = sorted.length;
  while (at > 0 && cmp(sorted[at - 1]!, item) > 0) at--;
  const drop = Math.max(0, sorted.length + 1 - limit);
  if (at < drop) return sorted.slice(drop - 1); // older than everything that is kept: it falls off at once
  const out = sorted.slice(drop, at);
  out.push(item);
  for (let j = at; j < sorted.length; j++) out.push(sorted[j]!);
  return out;
}

function findLast<T>(list: readonly T[], pred: (x: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i]!)) return list[i];
  return undefined;
}

/**
 * Pure fold of one event into one connector's state. The result does not depend on the order in
 * which events of different topics arrive: state, receipt and open incidents are derived from the
 * attempts' facts (the newest attempt by start time decides), not from the last event seen.
 */
export function evolveConnector(prev: ConnectorState | undefined, e: ConnectorEvent): ConnectorState {
  const spec = 'spec' in e ? e.spec : undefined;
  const base: ConnectorState = prev ?? {
    connectorId: e.connectorId,
    tenantId: e.tenantId,
    name: spec?.name ?? e.connectorId,
    sourceType: spec?.sourceType ?? 'unknown',
    environment: spec?.environment ?? 'unknown',
    status: 'REGISTERED',
    spec: spec ?? { name: e.connectorId, sourceType: 'unknown', configJson: '{}', contractYaml: null, environment: 'unknown', owner: null, labels: {} },
    specAt: '',
    registered: false,
    registeredAt: e.occurredAt,
    updatedAt: e.occurredAt,
    attempts: 0,
    lastAttemptId: null,
    lastReceipt: null,
    pendingApproval: null,
    openIncidents: [],
    alerts: [],
    history: [],
    attemptLog: [],
  };
  const { status, summary } = summarize(e);
  const next: ConnectorState = {
    ...base,
    updatedAt: e.occurredAt > base.updatedAt ? e.occurredAt : base.updatedAt,
    // Kept in time order whatever the arrival order across topics.
    history: insertSorted(base.history, { at: e.occurredAt, eventType: e.eventType, eventId: e.eventId, attemptId: e.correlationId, status, summary }, byTimeThenEvent, HISTORY_LIMIT),
  };
  if (spec && e.occurredAt >= base.specAt) {
    // Plain data: decoded Avro records are class instances, snapshots are JSON.
    Object.assign(next, { spec: { ...spec, labels: { ...spec.labels } }, specAt: e.occurredAt, name: spec.name, sourceType: spec.sourceType, environment: spec.environment });
  }
  if (e.eventType === 'connector.registered') {
    next.registeredAt = base.registered ? (e.occurredAt < base.registeredAt ? e.occurredAt : base.registeredAt) : e.occurredAt;
    next.registered = true;
    next.tenantId = e.tenantId;
  }

  // Attempt facts.
  const startsAttempt = e.eventType === 'connector.handshake.requested' || (e.eventType === 'connector.registered' && e.autoPreflight) || ATTEMPT_EVENTS.has(e.eventType);
  if (startsAttempt) {
    const i = base.attemptLog.findIndex((x) => x.attemptId === e.correlationId);
    const cur: AttemptView = i >= 0 ? { ...base.attemptLog[i]! } : { attemptId: e.correlationId, startedAt: e.occurredAt, handshake: null, approval: null, outcome: null };
    if (e.occurredAt < cur.startedAt) cur.startedAt = e.occurredAt;
    if (e.eventType === 'connector.handshake') cur.handshake = e.status;
    if (e.eventType === 'connector.approval.requested') cur.approval = { policy: e.policy, requiredRole: e.requiredRole, reason: e.reason };
    if (e.eventType === 'connector.validated') cur.outcome = { attemptId: e.correlationId, status: e.status, reason: e.reason, validatedBy: e.validatedBy, validatedAt: e.occurredAt, durationMs: e.durationMs, yaml: e.receiptYaml };
    // The attempt leaves its old place (its start may have moved earlier) and is put back in order.
    const others = i >= 0 ? base.attemptLog.filter((_, j) => j !== i) : base.attemptLog;
    next.attempts = base.attempts + (i >= 0 ? 0 : 1);
    next.attemptLog = insertSorted(others, cur, byStartThenAttempt, ATTEMPT_LIMIT);
  }
  if (e.eventType === 'connector.incident.opened') {
    // One incident per problem: a repeat (same incident id, another attempt) counts an occurrence.
    const prior = base.openIncidents.find((x) => x.incidentId === e.incidentId);
    const seen = { at: e.occurredAt, attemptId: e.correlationId };
    let merged: IncidentView;
    if (!prior) {
      merged = { incidentId: e.incidentId, connectorId: e.connectorId, tenantId: e.tenantId, kind: e.kind, severity: e.severity, summary: e.summary, openedAt: e.occurredAt, attemptId: e.correlationId, delivery: e.delivery, occurrences: 1, lastSeenAt: e.occurredAt, lastAttemptId: e.correlationId };
    } else {
      const repeat = prior.attemptId !== seen.attemptId && prior.lastAttemptId !== seen.attemptId;
      const newer = seen.at >= prior.lastSeenAt;
      merged = {
        ...prior,
        ...(newer ? { summary: e.summary, severity: e.severity, delivery: e.delivery, lastSeenAt: seen.at, lastAttemptId: seen.attemptId } : {}),
        ...(seen.at < prior.openedAt ? { openedAt: seen.at, attemptId: seen.attemptId } : {}),
        occurrences: prior.occurrences + (repeat ? 1 : 0),
      };
    }
    next.openIncidents = [...base.openIncidents.filter((x) => x.incidentId !== e.incidentId), merged].sort((x, y) => x.openedAt.localeCompare(y.openedAt));
  }
  if (e.eventType === 'connector.alert.raised') {
    next.alerts = [...base.alerts.filter((x) => x.alertId !== e.alertId), { alertId: e.alertId, connectorId: e.connectorId, tenantId: e.tenantId, kind: e.kind, severity: e.severity, summary: e.summary, raisedAt: e.occurredAt, attemptId: e.correlationId }]
      .sort((x, y) => x.raisedAt.localeCompare(y.raisedAt))
      .slice(-ALERT_LIMIT);
  }
  return derive(next);
}

/** State, receipt, approval and open incidents from the attempt log. */
function derive(c: ConnectorState): ConnectorState {
  const current = c.attemptLog.at(-1);
  const lastOutcome = findLast(c.attemptLog, (a) => a.outcome !== null)?.outcome ?? null;
  let status: ConnectorStatus = 'REGISTERED';
  if (current) {
    if (current.outcome) status = current.outcome.status;
    else if (current.approval) status = 'AWAITING_APPROVAL';
    else if (current.handshake === 'COMPLETED') status = 'VALIDATING';
    else status = 'HANDSHAKING';
  }
  const lastReady = findLast(c.attemptLog, (a) => a.outcome?.status === 'READY');
  // A READY outcome resolves the incidents last seen before it: the source was fixed.
  const readyAt = lastReady?.outcome?.validatedAt;
  const openIncidents = readyAt ? c.openIncidents.filter((i) => i.lastSeenAt > readyAt) : c.openIncidents;
  const resolved = readyAt ? c.openIncidents.filter((i) => i.lastSeenAt <= readyAt).map((i) => ({ ...i, resolvedAt: readyAt })) : [];
  const resolvedIncidents = [...(c.resolvedIncidents ?? []).filter((r) => !resolved.some((x) => x.incidentId === r.incidentId)), ...resolved].sort((x, y) => (x.resolvedAt ?? '').localeCompare(y.resolvedAt ?? '')).slice(-RESOLVED_LIMIT);
  return {
    ...c,
    status,
    lastAttemptId: current?.attemptId ?? null,
    lastReceipt: lastOutcome,
    pendingApproval: current && !current.outcome && current.approval ? { ...current.approval, attemptId: current.attemptId } : null,
    openIncidents,
    resolvedIncidents,
  };
}
