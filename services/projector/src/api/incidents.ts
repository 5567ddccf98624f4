import type { FastifyPluginAsync } from 'fastify';
import { mayAccessTenant } from '@preflight/auth';
import { ALERT_SORTS, INCIDENT_SORTS, listQuerySchema, pageAlerts, pageIncidents, type AlertSort, type IncidentSort, type ListQuery } from '../lists.js';
import { guard } from './auth.js';
import { arrayOf, ERROR_STATUSES, int, nullableStr, open, send, str, type ApiDeps } from './common.js';

const incident = open({ incidentId: str, connectorId: str, tenantId: str, kind: str, severity: str, summary: str, openedAt: str, attemptId: str, delivery: nullableStr, status: str }, ['incidentId', 'connectorId', 'tenantId', 'kind', 'severity']);
const alert = open({ alertId: str, connectorId: str, tenantId: str, kind: str, severity: str, summary: str, raisedAt: str, attemptId: str }, ['alertId', 'connectorId', 'tenantId', 'kind', 'severity']);

/** Incidents (schema mismatches) and alerts (unreachable sources), each tenant seeing its own, a page at a time. */
export const incidentRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get<{ Querystring: { status?: 'open' | 'resolved' | 'all' } & ListQuery<IncidentSort> }>(
    '/api/incidents',
    {
      onRequest: guard(deps.auth, 'read'),
      schema: {
        tags: ['ops'],
        description: 'Incidents: open (default), resolved or all; one page, filtered and sorted on the server (follow nextCursor)',
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'resolved', 'all'] }, ...listQuerySchema(INCIDENT_SORTS, 'openedAt') } },
        response: { 200: open({ incidents: arrayOf(incident), total: int, nextCursor: nullableStr }, ['incidents', 'total', 'nextCursor']), ...ERROR_STATUSES },
      },
    },
    async (req, reply) => {
      const page = pageIncidents(deps.projection().incidents(req.query.status ?? 'open').filter((i) => mayAccessTenant(req.principal!, i.tenantId)), req.query);
      return send(req, reply, { incidents: page.items, total: page.total, nextCursor: page.nextCursor });
    },
  );
  app.get<{ Querystring: ListQuery<AlertSort> }>(
    '/api/alerts',
    {
      onRequest: guard(deps.auth, 'read'),
      schema: {
        tags: ['ops'],
        description: 'Alerts, one page, filtered and sorted on the server (follow nextCursor)',
        querystring: { type: 'object', additionalProperties: false, properties: listQuerySchema(ALERT_SORTS, 'raisedAt') },
        response: { 200: open({ alerts: arrayOf(alert), total: int, nextCursor: nullableStr }, ['alerts', 'total', 'nextCursor']), ...ERROR_STATUSES },
      },
    },
    async (req, reply) => {
      const page = pageAlerts(deps.projection().alerts().filter((a) => mayAccessTenant(req.principal!, a.tenantId)), req.query);
      return send(req, reply, { alerts: page.items, total: page.total, nextCursor: page.nextCursor });
    },
  );
};
