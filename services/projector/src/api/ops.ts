import type { FastifyPluginAsync } from 'fastify';
import { PreflightError } from '@preflight/core';
import { allTenants, mayAccessTenant } from '@preflight/auth';
import { guard } from './auth.js';
import { send, type ApiDeps } from './common.js';

/** Health, readiness, metrics (Prometheus and per tenant), topics and lag, rebuilding the projection. */
export const opsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/healthz', { schema: { tags: ['ops'], security: [] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['ops'], security: [] } }, async (_req, reply) => (deps.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'catching up' })));
  app.get('/metrics', { schema: { tags: ['ops'], security: [], description: 'Prometheus exposition of the semantic metrics' } }, (req, reply) => {
    if (!deps.prometheus) return reply.code(404).send({ code: 'NOT_FOUND', message: 'metrics disabled' });
    reply.hijack();
    deps.prometheus.handle(req.raw, reply.raw);
  });

  app.get<{ Querystring: { tenant?: string } }>('/api/metrics', { preHandler: guard(deps.auth, 'read'), schema: { tags: ['ops'], querystring: { type: 'object', properties: { tenant: { type: 'string' } } } } }, async (req, reply) => {
    const p = req.principal!;
    const tenant = req.query.tenant ?? (allTenants(p) ? undefined : p.tenant);
    if (tenant && !mayAccessTenant(p, tenant)) throw new PreflightError('FORBIDDEN', `you may not read metrics of tenant ${tenant}`, { retriable: false });
    const series = [...deps.projection().series].sort(([a], [b]) => a.localeCompare(b)).map(([minute, c]) => ({ minute, ...c }));
    return send(req, reply, { tenant: tenant ?? 'all', metrics: deps.projection().metrics(tenant), series: allTenants(p) ? series : [] });
  });
  app.get('/api/topics', { preHandler: guard(deps.auth, 'observe'), schema: { tags: ['ops'], description: "Per topic: messages, rate and each service group's lag" } }, async (req, reply) => send(req, reply, { topics: deps.topics ? await deps.topics.rows() : [] }));
  app.post('/api/admin/rebuild', { preHandler: guard(deps.auth, 'operate'), schema: { tags: ['ops'], description: 'Rebuild the projection from the event log' } }, async () => {
    if (!deps.rebuild) throw new PreflightError('NOT_FOUND', 'rebuild is not available here', { retriable: false });
    return deps.rebuild();
  });
};
