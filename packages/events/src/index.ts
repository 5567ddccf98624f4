export type * from './types.js';
export { EVENT_CATALOG, EVENT_TYPES, isEventType, eventSchema, eventAvroType, schemaPath, topicsFor, subjectFor, type Topics } from './catalog.js';
export { newEvent, causedBy, derivedEventId, type EventContext } from './envelope.js';
export { sampleEvents, payloadOf } from './samples.js';
export { ALERTING_ERROR_CODES, unreachableSourceAlert, type PreflightStage } from './alerts.js';
export {
  FAILING_SEVERITIES,
  isFailingFinding,
  failingFindings,
  auditVerdict,
  CHECK_NAMES,
  checkFailed,
  handshakeSummary,
  schemaCheckSummary,
  credentialAuditSummary,
  CONNECTOR_STATES,
  IN_PROGRESS_STATES,
  CONSUMER_SERVICES,
  serviceGroupId,
  serviceOfGroup,
  type CheckName,
  type ConnectorStatus,
} from './rules.js';
export { UPDATE_AUDIT_KEY } from './lifecycle.js';
