import type { FastifyPluginAsync } from 'fastify';
import { mayAccessTenant } from '@preflight/auth';
import { guard } from './auth.js';
import { arrayOf, ERROR_STATUSES, nullableStr, open, send, str, type ApiDeps } from './common.js';

const incident = open({ incidentId: str, connectorId: str, tenantId: str, kind: str, severity: str, summary: str, openedAt: str, attemptId: str, delivery: nullableStr }, ['incidentId', 'connectorId', 'tenantId', 'kind', 'severity']);
const alert = open({ alertId: str, connectorId: str, tenantId: str, kind: str, severity: str, summary: str, raisedAt: str, attemptId: str }, ['alertId', 'connectorId', 'tenantId', 'kind', 'severity']);

/** Incidents (schema mismatches) and alerts (unreachable sources), each tenant seeing its own. */
export const incidentRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { status?: 'open' | 'resolved' | 'all' } }>(
    '/api/incidents',
    { onRequest: guard(deps.auth, 'read'), schema: { tags: ['ops'], description: 'Incidents: open (default), resolved or all', querystring: { type: 'object', properties: { status: { type: 'string', enum: ['open', 'resolved', 'all'] } } }, response: { 200: open({ incidents: arrayOf(incident) }, ['incidents']), ...ERROR_STATUSES } } },
    async (req, reply) => send(req, reply, { incidents: deps.projection().incidents(req.query.status ?? 'open').filter((i) => mayAccessTenant(req.principal!, i.tenantId)) }),
  );
  app.get('/api/alerts', { onRequest: guard(deps.auth, 'read'), schema: { tags: ['ops'], response: { 200: open({ alerts: arrayOf(alert) }, ['alerts']), ...ERROR_STATUSES } } }, async (req, reply) => send(req, reply, { alerts: deps.projection().alerts().filter((a) => mayAccessTenant(req.principal!, a.tenantId)) }));
};
