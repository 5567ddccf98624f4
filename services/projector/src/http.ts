import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { approvalRoutes, authRoutes, connectorRoutes, dashboardRoutes, incidentRoutes, installErrorHandling, lifecycleRoutes, operationRoutes, opsRoutes, releaseReadinessRoutes, type ApiDeps } from './api/index.js';

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
  await app.register(lifecycleRoutes, deps);
  await app.register(releaseReadinessRoutes, deps);
  // Loaded on demand so the CLI, which imports this package for its client, does not load the SDK.
  await app.register((await import('./mcp/http.js')).mcpHttp, { auth: deps.auth, api: app, ...deps.mcp });
  await app.register(dashboardRoutes);
  return app;
}
