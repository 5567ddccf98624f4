/**
 * TypeScript mirror of schemas/events/connector/*.avsc. The unit test `events.unit.spec.ts`
 * round-trips a full sample of every type through avsc and compares field sets, so a type and its
 * schema cannot drift silently.
 */

/** Fields every event carries (DESIGN.md "Event envelope"). */
export interface Envelope {
  eventId: string;
  eventType: EventType;
  eventVersion: number;
  occurredAt: string;
  producer: string;
  tenantId: string;
  connectorId: string;
  correlationId: string;
  causationId: string | null;
  idempotencyKey: string;
  traceparent: string | null;
  actor: string;
}

export interface ErrorInfo {
  code: string;
  message: string;
  retriable: boolean;
}

export type SourceType = 'postgres' | 'mysql' | 'rest' | 'files';

export interface ConnectorSpec {
  name: string;
  sourceType: string;
  /** Connector config as JSON; secrets only as `secretRef`. */
  configJson: string;
  contractYaml: string | null;
  environment: string;
  owner: string | null;
  labels: Record<string, string>;
}

/** Mirror of the Avro ContractFacts record (and of `ContractFacts` in @preflight/contracts, which derives it). */
export interface ContractFactsInfo {
  id: string;
  version: string;
  datasets: Array<{ name: string; namespace: string | null; fields: Array<{ name: string; type: string | null; pii: boolean }> }>;
  /** `dataset.column` of every PII/regulated property. */
  piiFields: string[];
  /** Where the data lives; never a credential. */
  server: { name: string; type: string; environment: string | null; host: string | null; port: number | null; database: string | null; schema: string | null } | null;
}

export interface DiffEntry {
  kind: string;
  dataset: string;
  field: string | null;
  expected: string | null;
  actual: string | null;
  severity: string;
  message: string;
  pii: boolean;
}

export interface ExpectationResult {
  expectationType: string;
  kwargsJson: string;
  success: boolean;
  elementCount: number | null;
  unexpectedCount: number | null;
  unexpectedPercent: number | null;
  partialUnexpectedList: string[];
  observedValue: string | null;
  exceptionMessage: string | null;
  /** error, or warning for a rule of non-blocking ODCS severity (since schema.checked v2). */
  severity: string;
  /** The severity the contract's rule declares, as written. */
  ruleSeverity: string | null;
  /** Failed-row samples, bounded and redacted; empty unless requested. */
  unexpectedRows: Array<Record<string, string | null>>;
}

export interface Checkpoint {
  success: boolean;
  engine: string;
  evaluatedExpectations: number;
  successfulExpectations: number;
  unsuccessfulExpectations: number;
  successPercent: number;
  results: ExpectationResult[];
}

export interface Finding {
  code: string;
  /** INFO | WARNING | HIGH | CRITICAL (a string in the schema, so new levels stay compatible). */
  severity: string;
  message: string;
  object: string | null;
}

export interface CheckSummary {
  name: string;
  status: string;
  durationMs: number | null;
  eventId: string | null;
  summary: string;
}

export interface Receipt {
  attemptId: string;
  connector: string;
  sourceType: string;
  contractVersion: string | null;
  startedAt: string;
  finishedAt: string;
  checks: CheckSummary[];
  evidence: string[];
}

export type CheckStatus = 'PASS' | 'FAIL' | 'ERROR';

export interface ConnectorRegistered extends Envelope {
  eventType: 'connector.registered';
  spec: ConnectorSpec;
  autoPreflight: boolean;
  /**
   * Since v2; null without a contract. Optional for producers: an upstream system that does not
   * know the field leaves it out (Avro writes its default, null), and the handshake derives them.
   */
  contractFacts?: ContractFactsInfo | null;
}

export interface ConnectorHandshakeRequested extends Envelope {
  eventType: 'connector.handshake.requested';
  spec: ConnectorSpec;
  operationId: string | null;
  reason: string | null;
}

export interface ConnectorHandshake extends Envelope {
  eventType: 'connector.handshake';
  status: 'COMPLETED' | 'FAILED';
  spec: ConnectorSpec;
  trigger: 'REGISTERED' | 'REQUESTED';
  operationId: string | null;
  connectorVersion: string;
  attempts: number;
  durationMs: number;
  serverVersion: string | null;
  tls: { enabled: boolean; protocol: string | null; cipher: string | null } | null;
  latencyMs: number | null;
  principal: string | null;
  error: ErrorInfo | null;
  audit: Record<string, string>;
  /** Since v2: what the checks after the handshake read instead of parsing spec.contractYaml; null without a (valid) contract. */
  contractFacts: ContractFactsInfo | null;
}

export interface ConnectorSchemaChecked extends Envelope {
  eventType: 'connector.schema.checked';
  status: CheckStatus;
  contractId: string | null;
  contractVersion: string | null;
  datasetsDiscovered: number;
  diff: DiffEntry[];
  checkpoint: Checkpoint | null;
  severity: string | null;
  durationMs: number;
  error: ErrorInfo | null;
}

export interface ConnectorCredentialsAudited extends Envelope {
  eventType: 'connector.credentials.audited';
  status: CheckStatus;
  findings: Finding[];
  principal: string | null;
  secretScheme: string | null;
  rotationAgeDays: number | null;
  tls: boolean;
  durationMs: number;
  error: ErrorInfo | null;
}

export interface ConnectorValidated extends Envelope {
  eventType: 'connector.validated';
  status: 'READY' | 'FAILED';
  reason: string | null;
  validatedBy: string;
  receipt: Receipt;
  receiptYaml: string;
  durationMs: number;
  audit: Record<string, string>;
}

export interface ConnectorIncidentOpened extends Envelope {
  eventType: 'connector.incident.opened';
  incidentId: string;
  kind: string;
  severity: string;
  summary: string;
  diff: DiffEntry[];
  evidence: string[];
  delivery: string | null;
}

/** An open incident is over; the attempt that showed it is its correlationId. */
export interface ConnectorIncidentResolved extends Envelope {
  eventType: 'connector.incident.resolved';
  incidentId: string;
  kind: string;
  severity: string;
  reason: 'PASSED' | 'SUPERSEDED';
  supersededBy: string | null;
  summary: string;
  evidence: string[];
  delivery: string | null;
}

export interface ConnectorAlertRaised extends Envelope {
  eventType: 'connector.alert.raised';
  alertId: string;
  kind: string;
  severity: string;
  summary: string;
  errorCode: string;
  details: Record<string, string>;
}

export interface ConnectorApprovalRequested extends Envelope {
  eventType: 'connector.approval.requested';
  policy: string;
  requiredRole: string;
  reason: string;
}

export interface ConnectorApprovalDecided extends Envelope {
  eventType: 'connector.approval.decided';
  decision: 'APPROVED' | 'REJECTED';
  policy: string;
  comment: string | null;
}

export interface ConnectorCancelRequested extends Envelope {
  eventType: 'connector.cancel.requested';
  operationId: string | null;
  reason: string | null;
}

/** One classified change between two contract versions (packages/contracts `contractChangelog`). */
export interface ContractChangeInfo {
  path: string;
  kind: string;
  breaking: boolean;
  detail: string;
}

export interface ContractChangelogInfo {
  from: string;
  to: string;
  breaking: boolean;
  changes: ContractChangeInfo[];
}

export interface ConnectorUpdated extends Envelope {
  eventType: 'connector.updated';
  /** The whole connector after the change. */
  spec: ConnectorSpec;
  /** config | contract | environment | owner | labels */
  changed: string[];
  /** Present when the contract changed. */
  changelog: ContractChangelogInfo | null;
  reason: string | null;
  autoPreflight: boolean;
}

export interface ConnectorDeregistered extends Envelope {
  eventType: 'connector.deregistered';
  name: string;
  reason: string | null;
}

/** Every event on the bus, discriminated by `eventType`. */
export type ConnectorEvent =
  | ConnectorRegistered
  | ConnectorHandshakeRequested
  | ConnectorHandshake
  | ConnectorSchemaChecked
  | ConnectorCredentialsAudited
  | ConnectorValidated
  | ConnectorIncidentOpened
  | ConnectorAlertRaised
  | ConnectorApprovalRequested
  | ConnectorApprovalDecided
  | ConnectorCancelRequested
  | ConnectorUpdated
  | ConnectorDeregistered
  | ConnectorIncidentResolved;

export type EventType = ConnectorEvent['eventType'];
export type EventOf<T extends EventType> = Extract<ConnectorEvent, { eventType: T }>;
/** The part of an event its producer decides; the envelope is filled in by `newEvent`. */
export type PayloadOf<T extends EventType> = Omit<EventOf<T>, keyof Envelope>;
