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

export interface ConnectorState {
  connectorId: string;
  tenantId: string;
  name: string;
  sourceType: string;
  environment: string;
  status: ConnectorStatus;
  spec: ConnectorSpec;
  registeredAt: string;
  updatedAt: string;
  attempts: number;
  lastAttemptId: string | null;
  lastReceipt: ReceiptView | null;
  /** Set while the current attempt waits for a person's approval. */
  pendingApproval: { policy: string; requiredRole: string; reason: string; attemptId: string } | null;
  openIncidents: IncidentView[];
  alerts: AlertView[];
  history: HistoryEntry[];
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
  }
}

/**
 * Pure fold of one event into one connector's state. Events about a connector never registered
 * here (a replay window that starts later) still create a state, from the spec they carry.
 */
export function evolveConnector(prev: ConnectorState | undefined, e: ConnectorEvent): ConnectorState {
  const spec = 'spec' in e ? e.spec : prev?.spec;
  const base: ConnectorState = prev ?? {
    connectorId: e.connectorId,
    tenantId: e.tenantId,
    name: spec?.name ?? e.connectorId,
    sourceType: spec?.sourceType ?? 'unknown',
    environment: spec?.environment ?? 'unknown',
    status: 'REGISTERED',
    spec: spec ?? { name: e.connectorId, sourceType: 'unknown', configJson: '{}', contractYaml: null, environment: 'unknown', owner: null, labels: {} },
    registeredAt: e.occurredAt,
    updatedAt: e.occurredAt,
    attempts: 0,
    lastAttemptId: null,
    lastReceipt: null,
    pendingApproval: null,
    openIncidents: [],
    alerts: [],
    history: [],
  };
  const { status, summary } = summarize(e);
  const next: ConnectorState = {
    ...base,
    updatedAt: e.occurredAt > base.updatedAt ? e.occurredAt : base.updatedAt,
    // Kept in time order whatever the arrival order across topics.
    history: [...base.history, { at: e.occurredAt, eventType: e.eventType, eventId: e.eventId, attemptId: e.correlationId, status, summary }]
      .sort((a, b) => a.at.localeCompare(b.at) || a.eventId.localeCompare(b.eventId))
      .slice(-HISTORY_LIMIT),
  };
  const newAttempt = e.correlationId !== base.lastAttemptId;
  switch (e.eventType) {
    case 'connector.registered':
      return { ...next, spec: e.spec, name: e.spec.name, sourceType: e.spec.sourceType, environment: e.spec.environment, tenantId: e.tenantId, status: e.autoPreflight ? 'HANDSHAKING' : prev ? next.status : 'REGISTERED', ...(e.autoPreflight ? { lastAttemptId: e.correlationId, attempts: base.attempts + (newAttempt ? 1 : 0) } : {}) };
    case 'connector.handshake.requested':
      return { ...next, spec: e.spec, status: 'HANDSHAKING', lastAttemptId: e.correlationId, attempts: base.attempts + (newAttempt ? 1 : 0) };
    case 'connector.handshake':
      if (e.correlationId !== base.lastAttemptId && base.lastAttemptId !== null) return next; // a stale attempt
      return { ...next, lastAttemptId: e.correlationId, attempts: base.lastAttemptId === null ? base.attempts + 1 : base.attempts, status: e.status === 'COMPLETED' ? 'VALIDATING' : next.status };
    case 'connector.approval.requested':
      return e.correlationId === base.lastAttemptId ? { ...next, status: 'AWAITING_APPROVAL', pendingApproval: { policy: e.policy, requiredRole: e.requiredRole, reason: e.reason, attemptId: e.correlationId } } : next;
    case 'connector.validated': {
      const receipt: ReceiptView = { attemptId: e.correlationId, status: e.status, reason: e.reason, validatedBy: e.validatedBy, validatedAt: e.occurredAt, durationMs: e.durationMs, yaml: e.receiptYaml };
      const current = e.correlationId === base.lastAttemptId || base.lastAttemptId === null;
      // A READY outcome closes the incidents of earlier attempts: the source is fixed.
      const openIncidents = e.status === 'READY' && current ? [] : next.openIncidents;
      return current ? { ...next, status: e.status, lastReceipt: receipt, lastAttemptId: e.correlationId, openIncidents, pendingApproval: null } : next;
    }
    case 'connector.incident.opened':
      return { ...next, openIncidents: [...next.openIncidents.filter((i) => i.incidentId !== e.incidentId), { incidentId: e.incidentId, connectorId: e.connectorId, tenantId: e.tenantId, kind: e.kind, severity: e.severity, summary: e.summary, openedAt: e.occurredAt, attemptId: e.correlationId, delivery: e.delivery }] };
    case 'connector.alert.raised':
      return { ...next, alerts: [...next.alerts.filter((a) => a.alertId !== e.alertId), { alertId: e.alertId, connectorId: e.connectorId, tenantId: e.tenantId, kind: e.kind, severity: e.severity, summary: e.summary, raisedAt: e.occurredAt, attemptId: e.correlationId }].slice(-ALERT_LIMIT) };
    default:
      return next;
  }
}
