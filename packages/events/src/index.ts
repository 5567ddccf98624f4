export type * from './types.js';
export { EVENT_CATALOG, EVENT_TYPES, isEventType, eventSchema, eventAvroType, schemaPath, topicsFor, subjectFor, type Topics } from './catalog.js';
export { newEvent, causedBy, derivedEventId, type EventContext } from './envelope.js';
export { sampleEvents, payloadOf } from './samples.js';
export { ALERTING_ERROR_CODES, unreachableSourceAlert, type PreflightStage } from './alerts.js';
export { UPDATE_AUDIT_KEY } from './lifecycle.js';
