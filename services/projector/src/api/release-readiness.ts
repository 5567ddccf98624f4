import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { mayAccessTenant } from '@preflight/auth';
import { gate, releaseReadiness } from '../release-readiness.js';
import { guard } from './auth.js';
import { arrayOf, bool, ERROR_STATUSES, int, open, str, type ApiDeps } from './common.js';

const filters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tenant: { type: 'string', maxLength: 100 },
    connector: { type: 'string', maxLength: 200 },
    include: { type: 'string', enum: ['retired'], description: 'also rows of retired connectors' },
  },
} as const;

/**
 * The release-readiness matrix and the per-dataset gate a consuming workflow's promotion step
 * (or a CI job, through `preflight gate`) calls. Both only show the caller's tenants.
 */
const row = open({ tenant: str, dataset: str, connector: str, pass: bool }, ['dataset', 'connector', 'pass']);
const matrix = open({ datasets: arrayOf(row), total: int, passing: int }, ['datasets', 'total', 'passing']);
const gateAnswer = open({ dataset: str, pass: bool, verdict: str, rows: arrayOf(row), failing: arrayOf(open({ connector: str, dataset: str })) }, ['pass', 'verdict', 'failing']);

export const releaseReadinessRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const rowsFor = (req: FastifyRequest, q: { tenant?: string; connector?: string }, withRetired: boolean) =>
    releaseReadiness([...deps.projection().connectors.values()].filter((c) => mayAccessTenant(req.principal!, c.tenantId) && (withRetired || !c.retired) && (!q.tenant || c.tenantId === q.tenant) && (!q.connector || c.connectorId === q.connector)));

  app.get<{ Querystring: { tenant?: string; connector?: string; include?: 'retired' } }>(
    '/api/release-readiness',
    {
      onRequest: guard(deps.auth, 'read'),
      schema: { tags: ['release'], querystring: filters, response: { 200: matrix, ...ERROR_STATUSES }, description: 'Per dataset of every contract: tenant, dataset, connector, schema adherence, data quality (PASS / FAIL / UNKNOWN) from the last checkpoint, that checkpoint, the evidence links, and whether it may be released.' },
    },
    async (req) => {
      const rows = rowsFor(req, req.query, req.query.include === 'retired');
      return { datasets: rows, total: rows.length, passing: rows.filter((r) => r.pass).length };
    },
  );

  app.get<{ Params: { dataset: string }; Querystring: { tenant?: string; connector?: string } }>(
    '/api/release-readiness/:dataset',
    {
      onRequest: guard(deps.auth, 'read'),
      schema: {
        tags: ['release'],
        params: { type: 'object', required: ['dataset'], properties: { dataset: { type: 'string', minLength: 1, maxLength: 300, description: 'a dataset name, or <connectorId>:<dataset>' } } },
        querystring: { ...filters, properties: { tenant: filters.properties.tenant, connector: filters.properties.connector } },
        response: { 200: gateAnswer, ...ERROR_STATUSES },
        description: 'The release gate of one dataset: pass when every connector serving it is READY on its current spec with schema adherence and data quality PASS; otherwise fail, naming the failing expectations. 200 either way; 404 when no contract of the caller\'s tenants has the dataset.',
      },
    },
    async (req, reply) => {
      // Retired connectors count here: a gate on a dataset whose connector was retired must fail, not vanish.
      const g = gate(rowsFor(req, req.query, true), req.params.dataset);
      if (g.rows.length === 0) return reply.code(404).send({ code: 'NOT_FOUND', message: `no contract of your tenants has a dataset ${req.params.dataset}` });
      return { ...g, verdict: g.pass ? 'pass' : 'fail', failing: g.rows.flatMap((r) => r.failing.map((f) => ({ connector: r.connector, dataset: r.dataset, ...f }))) };
    },
  );
};
