import { credentialAuditSummary, handshakeSummary, schemaCheckSummary, type ConnectorEvent, type ConnectorIncidentOpened, type ConnectorIncidentResolved, type ConnectorSpec, type ConnectorStatus, type ContractChangelogInfo } from '@preflight/events';

export { CONNECTOR_STATES, type ConnectorStatus } from '@preflight/events';

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
  /** open while the newest occurrence is later than the newest resolution. */
  status: 'open' | 'resolved';
  /** When it was resolved; only on a resolved incident. */
  resolvedAt?: string;
  /** The newest connector.incident.resolved seen for it (kept after a reopen: the fold compares times). */
  resolution?: IncidentResolutionView;
}

export interface IncidentResolutionView {
  at: string;
  attemptId: string;
  reason: 'PASSED' | 'SUPERSEDED';
  supersededBy: string | null;
  summary: string;
  delivery: string | null;
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

/** The newest `connector.updated`: what changed, who changed it and why. */
export interface ChangeView {
  at: string;
  eventId: string;
  actor: string;
  reason: string | null;
  changed: string[];
  changelog: ContractChangelogInfo | null;
  /** The preflight the update started, when it started one. */
  attemptId: string | null;
}

/** Set by `connector.deregistered`: the connector is retired for good. */
export interface RetiredView {
  at: string;
  eventId: string;
  actor: string;
  reason: string | null;
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
  /** The newest incidents a later check resolved (connector.incident.resolved). */
  resolvedIncidents?: IncidentView[];
  alerts: AlertView[];
  history: HistoryEntry[];
  /** The most recent attempts by start time. */
  attemptLog: AttemptView[];
  /** Absent in snapshots written before lifecycle events. */
  lastChange?: ChangeView | null;
  retired?: RetiredView | null;
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
      return { status: e.status, summary: handshakeSummary(e) };
    case 'connector.schema.checked':
      return { status: e.status, summary: schemaCheckSummary(e) };
    case 'connector.credentials.audited':
      return { status: e.status, summary: credentialAuditSummary(e) };
    case 'connector.validated':
      return { status: e.status, summary: `${e.status}${e.reason ? ` (${e.reason})` : ''} — ${e.validatedBy}` };
    case 'connector.incident.opened':
      return { status: e.severity, summary: `incident ${e.incidentId}: ${e.summary}` };
    case 'connector.incident.resolved':
      return { status: e.reason, summary: `incident ${e.incidentId} resolved: ${e.summary}` };
    case 'connector.alert.raised':
      return { status: e.severity, summary: `alert ${e.alertId}: ${e.summary}` };
    case 'connector.approval.requested':
      return { status: null, summary: `approval by ${e.requiredRole} required (${e.policy})` };
    case 'connector.approval.decided':
      return { status: e.decision, summary: `${e.decision} by ${e.actor}` };
    case 'connector.cancel.requested':
      return { status: null, summary: `cancel requested by ${e.actor}${e.reason ? `: ${e.reason}` : ''}` };
    case 'connector.updated':
      return { status: e.changelog?.breaking ? 'BREAKING' : null, summary: `${e.changed.join(', ') || 'nothing'} updated by ${e.actor}${e.changelog ? ` (contract ${e.changelog.from} → ${e.changelog.to}, ${e.changelog.changes.filter((c) => c.breaking).length} breaking of ${e.changelog.changes.length} change(s))` : ''}${e.reason ? `: ${e.reason}` : ''}` };
    case 'connector.deregistered':
      return { status: 'RETIRED', summary: `deregistered by ${e.actor}${e.reason ? `: ${e.reason}` : ''}` };
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
  const startsAttempt = e.eventType === 'connector.handshake.requested' || ((e.eventType === 'connector.registered' || e.eventType === 'connector.updated') && e.autoPreflight) || ATTEMPT_EVENTS.has(e.eventType);
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
  if (e.eventType === 'connector.updated') {
    const prior = base.lastChange;
    // The newest change is the one that stands, whatever order redelivery brings them in.
    if (!prior || e.occurredAt > prior.at || (e.occurredAt === prior.at && e.eventId > prior.eventId)) {
      next.lastChange = { at: e.occurredAt, eventId: e.eventId, actor: e.actor, reason: e.reason, changed: [...e.changed], changelog: e.changelog ? { ...e.changelog, changes: e.changelog.changes.map((c) => ({ ...c })) } : null, attemptId: e.autoPreflight ? e.correlationId : null };
    }
  }
  if (e.eventType === 'connector.deregistered') {
    const prior = base.retired;
    // Retirement is final; the first deregistration is the one on record.
    if (!prior || e.occurredAt < prior.at || (e.occurredAt === prior.at && e.eventId < prior.eventId)) next.retired = { at: e.occurredAt, eventId: e.eventId, actor: e.actor, reason: e.reason };
    // Only a connector known from no spec at all takes its name from here: any spec, in any order, wins.
    if (!base.specAt) next.name = e.name;
  }
  if (e.eventType === 'connector.incident.opened' || e.eventType === 'connector.incident.resolved') {
    const known = [...base.openIncidents, ...(base.resolvedIncidents ?? [])];
    const prior = known.find((x) => x.incidentId === e.incidentId);
    const merged = e.eventType === 'connector.incident.opened' ? withOccurrence(prior, e) : withResolution(prior, e);
    const all = [...known.filter((x) => x.incidentId !== e.incidentId), merged].map(incidentStatus);
    next.openIncidents = all.filter((x) => x.status === 'open').sort((x, y) => x.openedAt.localeCompare(y.openedAt));
    next.resolvedIncidents = all
      .filter((x) => x.status === 'resolved')
      .sort((x, y) => (x.resolvedAt ?? '').localeCompare(y.resolvedAt ?? '') || x.incidentId.localeCompare(y.incidentId))
      .slice(-RESOLVED_LIMIT);
  }
  if (e.eventType === 'connector.alert.raised') {
    next.alerts = [...base.alerts.filter((x) => x.alertId !== e.alertId), { alertId: e.alertId, connectorId: e.connectorId, tenantId: e.tenantId, kind: e.kind, severity: e.severity, summary: e.summary, raisedAt: e.occurredAt, attemptId: e.correlationId }]
      .sort((x, y) => x.raisedAt.localeCompare(y.raisedAt))
      .slice(-ALERT_LIMIT);
  }
  return derive(next);
}

/** One incident per problem: a repeat (same incident id, another attempt) counts an occurrence. */
function withOccurrence(prior: IncidentView | undefined, e: ConnectorIncidentOpened): IncidentView {
  const seen = { at: e.occurredAt, attemptId: e.correlationId };
  // A resolution can arrive before the occurrence it resolves (another topic): it left a stub.
  if (!prior || prior.occurrences === 0) {
    return { incidentId: e.incidentId, connectorId: e.connectorId, tenantId: e.tenantId, kind: e.kind, severity: e.severity, summary: e.summary, openedAt: e.occurredAt, attemptId: e.correlationId, delivery: e.delivery, occurrences: 1, lastSeenAt: e.occurredAt, lastAttemptId: e.correlationId, status: 'open', ...(prior?.resolution ? { resolution: prior.resolution } : {}) };
  }
  const repeat = prior.attemptId !== seen.attemptId && prior.lastAttemptId !== seen.attemptId;
  const newer = seen.at >= prior.lastSeenAt;
  return {
    ...prior,
    ...(newer ? { summary: e.summary, severity: e.severity, delivery: e.delivery, lastSeenAt: seen.at, lastAttemptId: seen.attemptId } : {}),
    ...(seen.at < prior.openedAt ? { openedAt: seen.at, attemptId: seen.attemptId } : {}),
    occurrences: prior.occurrences + (repeat ? 1 : 0),
  };
}

/** The newest resolution wins; an incident not seen yet is kept as a stub its occurrence fills in. */
function withResolution(prior: IncidentView | undefined, e: ConnectorIncidentResolved): IncidentView {
  const resolution: IncidentResolutionView = { at: e.occurredAt, attemptId: e.correlationId, reason: e.reason, supersededBy: e.supersededBy, summary: e.summary, delivery: e.delivery };
  const base: IncidentView = prior ?? { incidentId: e.incidentId, connectorId: e.connectorId, tenantId: e.tenantId, kind: e.kind, severity: e.severity, summary: e.summary, openedAt: e.occurredAt, attemptId: '', delivery: null, occurrences: 0, lastSeenAt: '', lastAttemptId: '', status: 'resolved' };
  return base.resolution && base.resolution.at >= resolution.at ? base : { ...base, resolution };
}

/** Open while the newest occurrence is later than the newest resolution, whatever the arrival order. */
function incidentStatus(i: IncidentView): IncidentView {
  const { resolvedAt, ...rest } = i;
  // Snapshots from before connector.incident.resolved carry only the READY time that resolved it.
  const resolution = i.resolution ?? (resolvedAt ? { at: resolvedAt, attemptId: '', reason: 'PASSED' as const, supersededBy: null, summary: 'a later attempt was READY', delivery: null } : undefined);
  if (!resolution) return { ...rest, status: 'open' };
  return resolution.at >= i.lastSeenAt ? { ...rest, resolution, status: 'resolved', resolvedAt: resolution.at } : { ...rest, resolution, status: 'open' };
}

/** State, receipt and approval from the attempt log. */
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
  // A change newer than the current attempt voids its outcome: the new spec has not passed yet.
  if (c.lastChange && (!current || current.startedAt < c.lastChange.at)) status = 'REGISTERED';
  if (c.retired) status = 'RETIRED';
  return {
    ...c,
    status,
    lastAttemptId: current?.attemptId ?? null,
    lastReceipt: lastOutcome,
    pendingApproval: status !== 'RETIRED' && current && !current.outcome && current.approval ? { ...current.approval, attemptId: current.attemptId } : null,
  };
}
