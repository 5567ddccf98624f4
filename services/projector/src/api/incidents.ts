import type { FastifyPluginAsync } from 'fastify';
import { mayAccessTenant } from '@preflight/auth';
import { ALERT_SORTS, INCIDENT_SORTS, listQuerySchema, pageAlerts, pageIncidents, type AlertSort, type IncidentSort, type ListQuery } from '../lists.js';
import { guard } from './auth.js';
import { send, type ApiDeps } from './common.js';

/** Incidents (schema mismatches) and alerts (unreachable sources), each tenant seeing its own, a page at a time. */
export const incidentRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { status?: 'open' | 'resolved' | 'all' } & ListQuery<IncidentSort> }>(
    '/api/incidents',
    { preHandler: guard(deps.auth, 'read'), schema: { tags: ['ops'], description: 'Incidents: open (default), resolved or all; one page, filtered and sorted on the server (follow nextCursor)', querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'resolved', 'all'] }, ...listQuerySchema(INCIDENT_SORTS, 'openedAt') } } } },
    async (req, reply) => {
      const page = pageIncidents(deps.projection().incidents(req.query.status ?? 'open').filter((i) => mayAccessTenant(req.principal!, i.tenantId)), req.query);
      return send(req, reply, { incidents: page.items, total: page.total, nextCursor: page.nextCursor });
    },
  );
  app.get<{ Querystring: ListQuery<AlertSort> }>(
    '/api/alerts',
    { preHandler: guard(deps.auth, 'read'), schema: { tags: ['ops'], description: 'Alerts, one page, filtered and sorted on the server (follow nextCursor)', querystring: { type: 'object', additionalProperties: false, properties: listQuerySchema(ALERT_SORTS, 'raisedAt') } } },
    async (req, reply) => {
      const page = pageAlerts(deps.projection().alerts().filter((a) => mayAccessTenant(req.principal!, a.tenantId)), req.query);
      return send(req, reply, { alerts: page.items, total: page.total, nextCursor: page.nextCursor });
    },
  );
};
