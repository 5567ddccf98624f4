import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { isPreflightError, PreflightError } from '@preflight/core';
import { TENANT_ID } from '@preflight/connectors';
import { parseContract, piiFields } from '@preflight/contracts';
import { CONNECTOR_STATES, newEvent } from '@preflight/events';
import { mayAccessTenant } from '@preflight/auth';
import { paginate } from '../paging.js';
import type { ConnectorState } from '../state.js';
import { guard } from './auth.js';
import { actorOf, arrayOf, bool, connectorFor, ERROR_STATUSES, idParam, int, nullableStr, open, PRODUCER, send, str, wantsYaml, type ApiDeps } from './common.js';
import { registrationSchema, validateRegistration } from './registration.js';

const CONNECTOR_SORTS = ['updatedAt', 'name', 'connectorId', 'status', 'tenantId'] as const;
type ConnectorSort = (typeof CONNECTOR_SORTS)[number];

const summary = {
  connectorId: str,
  tenantId: str,
  name: str,
  sourceType: str,
  environment: str,
  status: { type: 'string', enum: CONNECTOR_STATES },
  registeredAt: str,
  updatedAt: str,
  attempts: int,
  lastAttemptId: nullableStr,
  lastReceipt: { ...open({ attemptId: str, status: str, reason: nullableStr, validatedBy: str, validatedAt: str, durationMs: int }), nullable: true },
  pendingApproval: { ...open({ policy: str, requiredRole: str, reason: str, attemptId: str }), nullable: true },
  openIncidents: arrayOf(open({})),
  alerts: arrayOf(open({})),
};
const connectorListItem = open(
  {
    ...summary,
    lastReceipt: { ...open({ attemptId: str, status: str, reason: nullableStr, validatedBy: str, validatedAt: str, durationMs: int, url: str }), nullable: true },
    lastChange: { ...open({ at: str, actor: str, reason: nullableStr, changed: arrayOf(str), breaking: { type: 'boolean', nullable: true }, attemptId: nullableStr }), nullable: true },
    historyLength: int,
    attemptLogLength: int,
    resolvedIncidentsCount: int,
  },
  ['connectorId', 'tenantId', 'name', 'status'],
);
const connectorDetail = open({ ...summary, spec: open({ name: str, sourceType: str, config: open({}), contractYaml: str, environment: str, owner: str, labels: open({}) }), history: arrayOf(open({ at: str, eventType: str, eventId: str, attemptId: str, status: nullableStr, summary: str })) }, ['connectorId', 'tenantId', 'name', 'status', 'spec']);
const issues = arrayOf(open({ field: str, message: str, value: {} }, ['field', 'message']));

function publicConnector(c: ConnectorState, detail = false): Record<string, unknown> {
  const { spec, history, ...rest } = c;
  // The spec's config holds secret references only (validated at registration); still, the
  // list view omits it, and the detail view shows it parsed.
  if (detail) return { ...rest, spec: { ...spec, config: JSON.parse(spec.configJson) as unknown, configJson: undefined }, history };
  // A list page is a summary: each receipt's verdict, not its YAML (10-20 KB each), and neither
  // the attempt log (a receipt per attempt) nor the resolved incidents nor a change's full
  // changelog. With them a page of 100 connectors was 1.7 MB in the bench (issue 14: 100 KB);
  // the detail view has all of it, one request away.
  const { attemptLog, resolvedIncidents, lastChange, lastReceipt: receipt, ...kept } = rest;
  const lastReceipt = receipt && { attemptId: receipt.attemptId, status: receipt.status, reason: receipt.reason, validatedBy: receipt.validatedBy, validatedAt: receipt.validatedAt, durationMs: receipt.durationMs, url: `/api/connectors/${encodeURIComponent(c.connectorId)}/receipt` };
  const change = lastChange && { at: lastChange.at, actor: lastChange.actor, reason: lastChange.reason, changed: lastChange.changed, breaking: lastChange.changelog?.breaking ?? null, attemptId: lastChange.attemptId };
  return { ...kept, lastReceipt, ...(lastChange !== undefined ? { lastChange: change } : {}), historyLength: history.length, attemptLogLength: attemptLog.length, resolvedIncidentsCount: resolvedIncidents?.length ?? 0 };
}

/** Connectors: list, detail, receipt, registration (and its dry run), contract checks. */
export const connectorRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  const visible = (req: FastifyRequest): ConnectorState[] => [...deps.projection().connectors.values()].filter((c) => mayAccessTenant(req.principal!, c.tenantId));

  app.get<{ Querystring: { state?: string; tenant?: string; sourceType?: string; q?: string; limit?: string; cursor?: string; sort?: ConnectorSort; order?: 'asc' | 'desc'; include?: 'retired' } }>(
    '/api/connectors',
    {
      onRequest: guard(deps.auth, 'read'),
      schema: {
        tags: ['connectors'],
        description: 'One page of connectors, filtered and sorted on the server; follow nextCursor for the next page (null on the last).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...CONNECTOR_STATES] },
            include: { type: 'string', enum: ['retired'], description: 'also list deregistered (retired) connectors' },
            tenant: { type: 'string' },
            sourceType: { type: 'string' },
            q: { type: 'string', maxLength: 100 },
            // A string: query values are not coerced here, so a typo is reported, not guessed at.
            limit: { type: 'string', pattern: '^(500|[1-4][0-9]{2}|[1-9][0-9]?)$', description: 'page size, 1-500 (default 100)' },
            cursor: { type: 'string', maxLength: 1000 },
            sort: { type: 'string', enum: CONNECTOR_SORTS, default: 'updatedAt' },
            order: { type: 'string', enum: ['asc', 'desc'] },
          },
        },
        response: { 200: open({ connectors: arrayOf(connectorListItem), total: int, nextCursor: nullableStr }, ['connectors', 'total', 'nextCursor']), ...ERROR_STATUSES },
      },
    },
    async (req, reply) => {
      const { state, tenant, sourceType, q, cursor, sort = 'updatedAt' } = req.query;
      const limit = Number(req.query.limit ?? 100);
      const withRetired = req.query.include === 'retired' || state === 'RETIRED';
      const matching = visible(req).filter((c) => (withRetired || !c.retired) && (!state || c.status === state) && (!tenant || c.tenantId === tenant) && (!sourceType || c.sourceType === sourceType) && (!q || `${c.connectorId} ${c.name}`.toLowerCase().includes(q.toLowerCase())));
      // Newest first by default; names and ids read best A→Z.
      const order = req.query.order ?? (sort === 'updatedAt' ? 'desc' : 'asc');
      const page = paginate(matching, { limit, sort, order, cursor }, (c, k) => String(c[k]), (c) => c.connectorId);
      return send(req, reply, { connectors: page.items.map((c) => publicConnector(c)), total: page.total, nextCursor: page.nextCursor });
    },
  );

  app.get<{ Params: { id: string } }>('/api/connectors/:id', { onRequest: guard(deps.auth, 'read'), schema: { tags: ['connectors'], params: idParam, response: { 200: connectorDetail, ...ERROR_STATUSES } } }, async (req, reply) => send(req, reply, publicConnector(connectorFor(deps, req, req.params.id), true)));

  app.get<{ Params: { id: string } }>('/api/connectors/:id/receipt', { onRequest: guard(deps.auth, 'read'), schema: {
        tags: ['connectors'],
        params: idParam,
        description: 'The last receipt: YAML with Accept: application/yaml, else JSON',
        response: { 200: { description: 'the receipt', content: { 'application/json': { schema: open({ attemptId: str, status: str, reason: nullableStr, validatedBy: str, validatedAt: str, durationMs: int, yaml: str, receipt: open({}) }, ['status', 'yaml', 'receipt']) }, 'application/yaml': { schema: str } } }, ...ERROR_STATUSES },
      },
    }, async (req, reply) => {
    const c = connectorFor(deps, req, req.params.id);
    if (!c.lastReceipt) throw new PreflightError('NOT_FOUND', `connector ${req.params.id} has no receipt yet (state ${c.status})`, { retriable: false });
    if (wantsYaml(req)) return reply.type('application/yaml; charset=utf-8').send(c.lastReceipt.yaml);
    return { ...c.lastReceipt, receipt: parseYaml(c.lastReceipt.yaml) as unknown };
  });

  // The body schema is published as is; validateRegistration checks it (config by the connector
  // the sourceType names) together with what no schema can say, so every problem comes back in
  // one 400 in the body's field order. Fastify's own validation would report half of them.
  const registration = { body: registrationSchema() };
  const bodyCheckedInHandler = () => (value: unknown) => ({ value });
  const register = async (req: FastifyRequest, dryRun: boolean): Promise<Record<string, unknown>> => {
    const v = validateRegistration(req.body, req.principal!);
    // Secret refs, addresses and paths are checked inside the tenant the connector is registered
    // for (an admin registering for a tenant gets that tenant's scope), with every other problem.
    if (v.config && v.tenant && TENANT_ID.test(v.tenant)) v.issues.push(...(await deps.scopes().forTenant(v.tenant).check(v.config.manifest, v.config.value)));
    if (dryRun) return { valid: v.issues.length === 0, issues: v.issues };
    if (v.issues.length || !v.spec) throw new PreflightError('VALIDATION', `invalid registration: ${v.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, { issues: v.issues, retriable: false });
    const connectorId = `${v.tenant}.${v.spec.name}`;
    const prior = deps.projection().connectors.get(connectorId);
    if (prior?.retired) throw new PreflightError('CONFLICT', `connector ${connectorId} was deregistered at ${prior.retired.at}; a retired id is not reused, register under another name`, { retriable: false });
    const event = newEvent('connector.registered', { spec: v.spec, autoPreflight: v.autoPreflight, contractFacts: v.contractFacts ?? null }, { producer: PRODUCER, tenantId: v.tenant, connectorId, correlationId: crypto.randomUUID(), actor: actorOf(req) });
    await deps.publish(event);
    return { connectorId, eventId: event.eventId, attemptId: v.autoPreflight ? event.correlationId : null, url: `/api/connectors/${encodeURIComponent(connectorId)}` };
  };
  app.post(
    '/api/connectors',
    {
      onRequest: guard(deps.auth, 'register'),
      validatorCompiler: bodyCheckedInHandler,
      schema: { tags: ['connectors'], description: 'Registers a connector (published as connector.registered); with autoPreflight, its first preflight starts.', ...registration, response: { 201: open({ connectorId: str, eventId: str, attemptId: nullableStr, url: str }, ['connectorId', 'eventId', 'attemptId', 'url']), ...ERROR_STATUSES } },
    },
    async (req, reply) => {
      return reply.code(201).send(await register(req, false));
    },
  );
  app.post(
    '/api/connectors/validate',
    { onRequest: guard(deps.auth, 'register'), validatorCompiler: bodyCheckedInHandler, schema: { tags: ['connectors'], description: 'Checks a registration without registering: every issue at once, tenant scope included.', ...registration, response: { 200: open({ valid: bool, issues }, ['valid', 'issues']), ...ERROR_STATUSES } } },
    async (req) => register(req, true),
  );

  app.post<{ Body: { contract: string } }>(
    '/api/contracts/validate',
    { onRequest: guard(deps.auth, 'read'), schema: { tags: ['connectors'], description: 'Checks an ODCS v3 contract (YAML) without registering anything: every issue at once, and what readiness will read from it', body: { type: 'object', required: ['contract'], additionalProperties: false, properties: { contract: { type: 'string', minLength: 1, maxLength: 1024 * 1024 } } },
        response: { 200: open({ valid: bool, issues, contract: { ...open({ id: str, version: str, status: str, datasets: arrayOf(str), qualityRules: int, piiFields: arrayOf(str) }), nullable: true } }, ['valid', 'issues', 'contract']), ...ERROR_STATUSES },
      },
    },
    async (req) => {
      try {
        const c = parseContract(req.body.contract);
        const rules = c.schema.reduce((n, o) => n + (o.quality?.length ?? 0) + o.properties.reduce((m, p) => m + (p.quality?.length ?? 0), 0), 0);
        return { valid: true, issues: [], contract: { id: c.id, version: c.version, status: c.status, datasets: c.schema.map((o) => o.name), qualityRules: rules, piiFields: piiFields(c) } };
      } catch (e) {
        if (!isPreflightError(e)) throw e;
        return { valid: false, issues: e.issues.length ? e.issues.map((i) => ({ ...i, field: `contract.${i.field}`.replace(/^contract\.contract/, 'contract') })) : [{ field: 'contract', message: e.message }], contract: null };
      }
    },
  );
};
