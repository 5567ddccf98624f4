import type { FastifyPluginAsync } from 'fastify';
import { PreflightError } from '@preflight/core';
import { allTenants, mayAccessTenant } from '@preflight/auth';
import { guard } from './auth.js';
import { arrayOf, ERROR_STATUSES, errorBody, int, open, send, str, type ApiDeps } from './common.js';

const status = (value: string) => open({ status: { type: 'string', enum: [value] } }, ['status']);
const topicRow = open({ topic: str, messages: int, ratePerSec: { type: 'number' }, lag: arrayOf(open({ group: str, lag: int })), deadLetters: { type: 'integer', nullable: true }, deadLettersByGroup: arrayOf(open({ group: str, count: int })) }, ['topic', 'messages', 'lag']);

/** Health, readiness, metrics (Prometheus and per tenant), topics and lag, rebuilding the projection. */
export const opsRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/healthz', { schema: { tags: ['ops'], security: [], response: { 200: status('ok') } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['ops'], security: [], response: { 200: status('ready'), 503: status('catching up') } } }, async (_req, reply) => (deps.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'catching up' })));
  app.get('/metrics', { schema: { tags: ['ops'], security: [], description: 'Prometheus exposition of the semantic metrics', response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: str } } }, 404: errorBody } } }, (req, reply) => {
    if (!deps.prometheus) return reply.code(404).send({ code: 'NOT_FOUND', message: 'metrics disabled' });
    reply.hijack();
    deps.prometheus.handle(req.raw, reply.raw);
  });

  app.get<{ Querystring: { tenant?: string } }>('/api/metrics', { onRequest: guard(deps.auth, 'read'), schema: { tags: ['ops'], querystring: { type: 'object', properties: { tenant: { type: 'string' } } }, response: { 200: open({ tenant: str, metrics: open({}), series: arrayOf(open({ minute: str })) }, ['tenant', 'metrics', 'series']), ...ERROR_STATUSES } } }, async (req, reply) => {
    const p = req.principal!;
    const tenant = req.query.tenant ?? (allTenants(p) ? undefined : p.tenant);
    if (tenant && !mayAccessTenant(p, tenant)) throw new PreflightError('FORBIDDEN', `you may not read metrics of tenant ${tenant}`, { retriable: false });
    const series = [...deps.projection().series].sort(([a], [b]) => a.localeCompare(b)).map(([minute, c]) => ({ minute, ...c }));
    return send(req, reply, { tenant: tenant ?? 'all', metrics: deps.projection().metrics(tenant), series: allTenants(p) ? series : [] });
  });
  app.get('/api/topics', { onRequest: guard(deps.auth, 'observe'), schema: { tags: ['ops'], description: "Per topic: messages, rate and each service group's lag", response: { 200: open({ topics: arrayOf(topicRow) }, ['topics']), ...ERROR_STATUSES } } }, async (req, reply) => send(req, reply, { topics: deps.topics ? await deps.topics.rows() : [] }));
  app.post('/api/admin/rebuild', { onRequest: guard(deps.auth, 'operate'), schema: { tags: ['ops'], description: 'Rebuild the projection from the event log', response: { 200: open({ events: int, connectors: int }, ['events', 'connectors']), ...ERROR_STATUSES } } }, async () => {
    if (!deps.rebuild) throw new PreflightError('NOT_FOUND', 'rebuild is not available here', { retriable: false });
    return deps.rebuild();
  });
};
