export { startProjectorService, type ProjectorService, type ProjectorServiceOptions } from './service.js';
export { Projection, type Operation, type SemanticMetrics, type ProjectionSnapshot } from './projection.js';
export { evolveConnector, CONNECTOR_STATES, type ConnectorState, type ConnectorStatus } from './state.js';
export { ProjectorRunner } from './runner.js';
export { Authenticator, signDevToken, authConfigFromEnv, DEV_JWT_SECRET, ROLES, type Role, type Principal, type AuthConfig } from '@preflight/auth';
export { buildApi, validateRegistration } from './http.js';
export { ApiError, parseApiResponse, waitForOperation, type ApiCaller, type Operation as ApiOperation, type OperationTick } from './mcp/api.js';
