// The projector's HTTP API, one fastify plugin per concern. The convention, for new routes:
// - a plugin is `FastifyPluginAsync<ApiDeps>` in its own file here, holding its routes and their
//   schemas (params, querystring, body, responses: `/openapi.json` is generated from them);
// - every route but health/metrics/static has `onRequest: guard(deps.auth, '<permission>')` (auth
//   before the body is read or validated), and
//   reads the caller from `req.principal`; tenant visibility goes through `connectorFor`/`mayAccessTenant`;
// - failures are thrown as `PreflightError`s; the root error handler (errors.ts) answers with
//   `{code, message, issues?}` and the status from `HTTP_STATUS` beside the error codes in @preflight/core;
// - `buildApi` (../http.ts) registers each plugin with one line.
export { PRODUCER, connectorFor, type ApiDeps } from './common.js';
export { guard, authRoutes } from './auth.js';
export { installErrorHandling } from './errors.js';
export { connectorRoutes } from './connectors.js';
export { operationRoutes } from './operations.js';
export { approvalRoutes } from './approvals.js';
export { incidentRoutes } from './incidents.js';
export { lifecycleRoutes } from './lifecycle.js';
export { releaseReadinessRoutes } from './release-readiness.js';
export { opsRoutes } from './ops.js';
export { dashboardRoutes } from './dashboard.js';
export { validateRegistration } from './registration.js';
