import type { FastifyPluginAsync } from 'fastify';
import { mayAccessTenant } from '@preflight/auth';
import { guard } from './auth.js';
import { send, type ApiDeps } from './common.js';

/** Incidents (schema mismatches) and alerts (unreachable sources), each tenant seeing its own. */
export const incidentRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { status?: 'open' | 'resolved' | 'all' } }>(
    '/api/incidents',
    { preHandler: guard(deps.auth, 'read'), schema: { tags: ['ops'], description: 'Incidents: open (default), resolved or all', querystring: { type: 'object', properties: { status: { type: 'string', enum: ['open', 'resolved', 'all'] } } } } },
    async (req, reply) => send(req, reply, { incidents: deps.projection().incidents(req.query.status ?? 'open').filter((i) => mayAccessTenant(req.principal!, i.tenantId)) }),
  );
  app.get('/api/alerts', { preHandler: guard(deps.auth, 'read'), schema: { tags: ['ops'] } }, async (req, reply) => send(req, reply, { alerts: deps.projection().alerts().filter((a) => mayAccessTenant(req.principal!, a.tenantId)) }));
};
