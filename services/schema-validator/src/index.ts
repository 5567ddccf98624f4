export { startSchemaValidatorService, type SchemaValidatorServiceOptions } from './service.js';
export { decideSchemaCheck, incidentFor, severityOf, toCheckpoint, PRODUCER, SERVICE_NAME, type IncidentTicket, type SchemaCheckOutcome } from './decide.js';
export { performSchemaCheck, schemaValidatorHandlers } from './handler.js';
export { WebhookIncidentSink, noIncidentSink, type IncidentSink } from './sink.js';
