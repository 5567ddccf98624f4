import type { ConnectorEvent, ConnectorSpec, ContractChangelogInfo } from '@preflight/events';

/** REGISTERED also means "changed since its last preflight": an update sends the connector back here. */
export const CONNECTOR_STATES = ['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL', 'READY', 'FAILED', 'RETIRED'] as const;
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
  /** The newest incidents a later READY attempt resolved. */
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
    case 'connector.updated':
      return { status: e.changelog?.breaking ? 'BREAKING' : null, summary: `${e.changed.join(', ') || 'nothing'} updated by ${e.actor}${e.changelog ? ` (contract ${e.changelog.from} → ${e.changelog.to}, ${e.changelog.changes.filter((c) => c.breaking).length} breaking of ${e.changelog.changes.length} change(s))` : ''}${e.reason ? `: ${e.reason}` : ''}` };
    case 'connector.deregistered':
      return { status: 'RETIRED', summary: `deregistered by ${e.actor}${e.reason ? `: ${e.reason}` : ''}` };
  }
}

const ATTEMPT_LIMIT = 20;
const RESOLVED_LIMIT = 20;

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
    history: [...base.history, { at: e.occurredAt, eventType: e.eventType, eventId: e.eventId, attemptId: e.correlationId, status, summary }]
      .sort((x, y) => x.at.localeCompare(y.at) || x.eventId.localeCompare(y.eventId))
      .slice(-HISTORY_LIMIT),
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
  const startsAttempt = e.eventType === 'connector.handshake.requested' || ((e.eventType === 'connector.registered' || e.eventType === 'connector.updated') && e.autoPreflight) || ['connector.handshake', 'connector.schema.checked', 'connector.credentials.audited', 'connector.approval.requested', 'connector.approval.decided', 'connector.validated'].includes(e.eventType);
  if (startsAttempt) {
    const log = [...base.attemptLog];
    const i = log.findIndex((x) => x.attemptId === e.correlationId);
    const cur: AttemptView = i >= 0 ? { ...log[i]! } : { attemptId: e.correlationId, startedAt: e.occurredAt, handshake: null, approval: null, outcome: null };
    if (e.occurredAt < cur.startedAt) cur.startedAt = e.occurredAt;
    if (e.eventType === 'connector.handshake') cur.handshake = e.status;
    if (e.eventType === 'connector.approval.requested') cur.approval = { policy: e.policy, requiredRole: e.requiredRole, reason: e.reason };
    if (e.eventType === 'connector.validated') cur.outcome = { attemptId: e.correlationId, status: e.status, reason: e.reason, validatedBy: e.validatedBy, validatedAt: e.occurredAt, durationMs: e.durationMs, yaml: e.receiptYaml };
    if (i >= 0) log[i] = cur;
    else log.push(cur);
    log.sort((x, y) => x.startedAt.localeCompare(y.startedAt) || x.attemptId.localeCompare(y.attemptId));
    next.attempts = base.attempts + (i >= 0 ? 0 : 1);
    next.attemptLog = log.slice(-ATTEMPT_LIMIT);
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
  const lastOutcome = [...c.attemptLog].reverse().find((a) => a.outcome)?.outcome ?? null;
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
  const lastReady = [...c.attemptLog].reverse().find((a) => a.outcome?.status === 'READY');
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
    pendingApproval: status !== 'RETIRED' && current && !current.outcome && current.approval ? { ...current.approval, attemptId: current.attemptId } : null,
    openIncidents,
    resolvedIncidents,
  };
}
