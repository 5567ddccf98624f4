export { startLineageService, SERVICE_NAME, SERVICE_VERSION, type LineageServiceOptions } from './service.js';
export { lineageHandlers } from './handler.js';
export { startEvent, finishEvent, datasetNamespace, type RunEvent, type LineageSettings } from './openlineage.js';
export { HttpLineageTransport, type LineageTransport } from './transport.js';
