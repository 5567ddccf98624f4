import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { approvalRoutes, authRoutes, connectorFor, connectorRoutes, dashboardRoutes, incidentRoutes, installErrorHandling, operationRoutes, opsRoutes, guard, type ApiDeps } from './api/index.js';
import { lifecycleApi } from './api/lifecycle.js';
import { releaseReadinessApi } from './api/release-readiness.js';

export { PRODUCER, validateRegistration, type ApiDeps } from './api/index.js';

/** The API: one plugin per concern (see api/index.ts for the convention), the MCP endpoint and the dashboard. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, ajv: { customOptions: { allErrors: true, coerceTypes: false } }, routerOptions: { ignoreTrailingSlash: true } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Connector Preflight API', version: '0.1.0', description: 'Connector state, receipts, metrics and async preflight operations. Auth: bearer JWT with roles and a tenant claim.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  installErrorHandling(app, deps.logger);
  // Responses go out as the handler built them: a response schema documents the route (and the
  // OpenAPI test holds responses to it) but never silently drops or coerces a field.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(opsRoutes, deps);
  await app.register(authRoutes, deps);
  await app.register(connectorRoutes, deps);
  await app.register(operationRoutes, deps);
  await app.register(approvalRoutes, deps);
  await app.register(incidentRoutes, deps);
  // Lifecycle and release readiness take the API's guard and tenant-scoped lookup as options.
  await app.register(lifecycleApi, { projection: deps.projection, publish: deps.publish, scopes: deps.scopes, guard: (perm) => guard(deps.auth, perm), connectorFor: (req, id) => connectorFor(deps, req, id) });
  await app.register(releaseReadinessApi, { projection: deps.projection, guard: (perm) => guard(deps.auth, perm) });
  // Loaded on demand so the CLI, which imports this package for its client, does not load the SDK.
  await app.register((await import('./mcp/http.js')).mcpHttp, { auth: deps.auth, api: app, ...deps.mcp });
  await app.register(dashboardRoutes);
  return app;
}
