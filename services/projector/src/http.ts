import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { parse as parseYaml, stringify } from 'yaml';
import { isPreflightError, PreflightError, type FieldIssue, type Logger } from '@preflight/core';
import { getConnector, TENANT_ID, type ConnectorManifest, type Scopes } from '@preflight/connectors';
import { parseContract, piiFields } from '@preflight/contracts';
import { newEvent, type ConnectorEvent, type ConnectorSpec } from '@preflight/events';
import { allTenants, can, mayAccessTenant, type Authenticator, type Permission, type Principal } from './auth.js';
import type { Operation, Projection } from './projection.js';
import type { ConnectorState } from './state.js';
import type { TopicStats } from './topics.js';
import { paginate } from './paging.js';
import { ALERT_SORTS, INCIDENT_SORTS, listQuerySchema, pageAlerts, pageIncidents, type AlertSort, type IncidentSort, type ListQuery } from './lists.js';

const CONNECTOR_SORTS = ['updatedAt', 'name', 'connectorId', 'status', 'tenantId'] as const;
type ConnectorSort = (typeof CONNECTOR_SORTS)[number];

export const PRODUCER = 'projector-api@0.1.0';
const STATIC = fileURLToPath(new URL('./dashboard/static/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

export interface ApiDeps {
  projection: () => Projection;
  auth: Authenticator;
  publish: (...events: ConnectorEvent[]) => Promise<void>;
  topics?: TopicStats;
  prometheus?: { handle(req: FastifyRequest['raw'], res: FastifyReply['raw']): void };
  ready: () => boolean;
  rebuild?: () => Promise<{ events: number; connectors: number }>;
  operationTimeoutMs: number;
  logger?: Logger;
  /** Registration is checked in the tenant's scope (secrets, addresses, paths) before it is accepted. */
  scopes: () => Scopes;
}

const STATUS: Record<string, number> = { VALIDATION: 400, CONFIG: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, BUS: 503, SCHEMA_REGISTRY: 503 };
const ENVIRONMENTS = ['production', 'staging', 'development'];
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function wantsYaml(req: FastifyRequest): boolean {
  return /yaml/i.test(req.headers.accept ?? '');
}

function send(req: FastifyRequest, reply: FastifyReply, body: unknown): FastifyReply {
  if (wantsYaml(req)) return reply.type('application/yaml; charset=utf-8').send(stringify(body, { lineWidth: 0 }));
  return reply.send(body);
}

/** Validates a registration the way Kafka Connect's validate does: every problem, at once. */
export function validateRegistration(body: unknown, principal: Principal): { issues: FieldIssue[]; spec?: ConnectorSpec; tenant: string; autoPreflight: boolean; config?: { manifest: ConnectorManifest; value: unknown } } {
  const issues: FieldIssue[] = [];
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (!body || typeof body !== 'object' || Array.isArray(body)) issues.push({ field: 'body', message: 'must be a JSON object' });
  const name = b['name'];
  if (typeof name !== 'string' || !NAME.test(name)) issues.push({ field: 'name', message: name === undefined || name === '' ? 'is required (letters, digits, . _ -; at most 63)' : 'must be letters, digits, . _ - (at most 63, starting with a letter or digit)', value: name });
  const sourceType = b['sourceType'];
  let configNormalized: unknown = undefined;
  let manifest: ConnectorManifest | undefined;
  if (typeof sourceType !== 'string') issues.push({ field: 'sourceType', message: 'is required (postgres, mysql, rest, files)', value: sourceType });
  else {
    try {
      const module = getConnector(sourceType);
      const config = b['config'];
      if (!config || typeof config !== 'object' || Array.isArray(config)) issues.push({ field: 'config', message: 'must be an object' });
      else {
        try {
          configNormalized = module.parseConfig({ ...(config as Record<string, unknown>), type: module.manifest.type });
          manifest = module.manifest;
        } catch (e) {
          if (isPreflightError(e) && e.issues.length) issues.push(...e.issues);
          else issues.push({ field: 'config', message: (e as Error).message });
        }
      }
    } catch {
      issues.push({ field: 'sourceType', message: 'must be one of postgres, mysql, mariadb, rest, files', value: sourceType });
    }
  }
  const contract = b['contract'];
  if (contract !== undefined && contract !== null) {
    if (typeof contract !== 'string') issues.push({ field: 'contract', message: 'must be the ODCS v3 contract as a YAML string' });
    else {
      try {
        parseContract(contract);
      } catch (e) {
        if (isPreflightError(e)) issues.push(...e.issues.map((i) => ({ ...i, field: `contract.${i.field}` })));
      }
    }
  } else issues.push({ field: 'contract', message: 'is required: the ODCS v3 data contract the source must meet' });
  const environment = b['environment'] ?? 'development';
  if (typeof environment !== 'string' || !ENVIRONMENTS.includes(environment)) issues.push({ field: 'environment', message: `must be one of ${ENVIRONMENTS.join(', ')}`, value: environment });
  const labels = b['labels'] ?? {};
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string')) issues.push({ field: 'labels', message: 'must map names to strings' });
  let tenant = principal.tenant;
  if (b['tenant'] !== undefined) {
    if (typeof b['tenant'] !== 'string' || !TENANT_ID.test(b['tenant'])) issues.push({ field: 'tenant', message: 'must be a tenant id', value: b['tenant'] });
    else if (b['tenant'] !== principal.tenant && !allTenants(principal)) issues.push({ field: 'tenant', message: 'you may register connectors only in your own tenant', value: b['tenant'] });
    else tenant = b['tenant'];
  }
  if (!tenant) issues.push({ field: 'tenant', message: 'is required for a token without a tenant claim' });
  if (b['autoPreflight'] !== undefined && typeof b['autoPreflight'] !== 'boolean') issues.push({ field: 'autoPreflight', message: 'must be true or false' });
  const parsed = manifest ? { config: { manifest, value: configNormalized } } : {};
  if (issues.length) return { issues, tenant, autoPreflight: false, ...parsed };
  return {
    issues,
    tenant,
    autoPreflight: b['autoPreflight'] !== false,
    ...parsed,
    spec: {
      name: name as string,
      sourceType: sourceType as string,
      configJson: JSON.stringify(configNormalized),
      contractYaml: contract as string,
      environment: environment as string,
      owner: typeof b['owner'] === 'string' ? b['owner'] : principal.subject,
      labels: labels as Record<string, string>,
    },
  };
}

function operationBody(op: Operation): Record<string, unknown> {
  return { ...op, statusUrl: `/api/operations/${op.id}`, pollInterval: 1, ttl: op.ttlSeconds };
}

function publicConnector(c: ConnectorState, detail = false): Record<string, unknown> {
  const { spec, history, ...rest } = c;
  // The spec's config holds secret references only (validated at registration); still, the
  // list view omits it, and the detail view shows it parsed.
  return detail ? { ...rest, spec: { ...spec, config: JSON.parse(spec.configJson) as unknown, configJson: undefined }, history } : { ...rest, historyLength: history.length };
}

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

  app.setErrorHandler((err: Error & { validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>; statusCode?: number; code?: string }, req, reply) => {
    if (err.validation) {
      const issues = err.validation.map((v) => {
        const missing = typeof v.params?.['missingProperty'] === 'string' ? v.params['missingProperty'] : undefined;
        const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
        return { field: [path, missing].filter(Boolean).join('.') || 'body', message: v.message ?? 'invalid' };
      });
      return reply.code(400).send({ code: 'VALIDATION', message: `invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, issues });
    }
    if (isPreflightError(err)) return reply.code(STATUS[err.code] ?? 500).send(err.toJSON());
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return reply.code(400).send({ code: 'VALIDATION', message: `the body is not valid JSON: ${err.message}` });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ code: 'VALIDATION', message: 'the body is larger than 1 MiB' });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ code: 'VALIDATION', message: 'send application/json' });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ code: 'VALIDATION', message: err.message });
    deps.logger?.error({ err, url: req.url }, 'unexpected API error');
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error; see the projector log' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const guard = (perm: Permission) => async (req: FastifyRequest) => {
    const principal = await deps.auth.verify(req.headers.authorization);
    if (!can(principal, perm)) throw new PreflightError('FORBIDDEN', `role(s) ${principal.roles.join(', ')} may not ${perm}; needs one of the roles allowed to ${perm}`, { retriable: false });
    req.principal = principal;
  };
  const connectorFor = (req: FastifyRequest, id: string): ConnectorState => {
    const c = deps.projection().connectors.get(id);
    // Another tenant's connector answers exactly like a missing one: no existence leak.
    if (!c || !mayAccessTenant(req.principal!, c.tenantId)) throw new PreflightError('NOT_FOUND', `connector ${id} not found`, { retriable: false });
    return c;
  };
  const visible = (req: FastifyRequest): ConnectorState[] => [...deps.projection().connectors.values()].filter((c) => mayAccessTenant(req.principal!, c.tenantId));
  const err = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } };
  const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } };

  app.get('/healthz', { schema: { tags: ['ops'], security: [] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['ops'], security: [] } }, async (_req, reply) => (deps.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'catching up' })));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { tags: ['ops'], security: [], description: 'Prometheus exposition of the semantic metrics' } }, (req, reply) => {
    if (!deps.prometheus) return reply.code(404).send({ code: 'NOT_FOUND', message: 'metrics disabled' });
    reply.hijack();
    deps.prometheus.handle(req.raw, reply.raw);
  });

  app.get<{ Querystring: { state?: string; tenant?: string; sourceType?: string; q?: string; limit?: string; cursor?: string; sort?: ConnectorSort; order?: 'asc' | 'desc' } }>(
    '/api/connectors',
    {
      preHandler: guard('read'),
      schema: {
        tags: ['connectors'],
        description: 'One page of connectors, filtered and sorted on the server; follow nextCursor for the next page (null on the last).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL', 'READY', 'FAILED'] },
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
      },
    },
    async (req, reply) => {
      const { state, tenant, sourceType, q, cursor, sort = 'updatedAt' } = req.query;
      const limit = Number(req.query.limit ?? 100);
      const matching = visible(req).filter((c) => (!state || c.status === state) && (!tenant || c.tenantId === tenant) && (!sourceType || c.sourceType === sourceType) && (!q || `${c.connectorId} ${c.name}`.toLowerCase().includes(q.toLowerCase())));
      // Newest first by default; names and ids read best A→Z.
      const order = req.query.order ?? (sort === 'updatedAt' ? 'desc' : 'asc');
      const page = paginate(matching, { limit, sort, order, cursor }, (c, k) => String(c[k]), (c) => c.connectorId);
      return send(req, reply, { connectors: page.items.map((c) => publicConnector(c)), total: page.total, nextCursor: page.nextCursor });
    },
  );

  app.get<{ Params: { id: string } }>('/api/connectors/:id', { preHandler: guard('read'), schema: { tags: ['connectors'], params: idParam, response: { 404: err } } }, async (req, reply) => send(req, reply, publicConnector(connectorFor(req, req.params.id), true)));

  app.get<{ Params: { id: string } }>('/api/connectors/:id/receipt', { preHandler: guard('read'), schema: { tags: ['connectors'], params: idParam, description: 'The last receipt: YAML with Accept: application/yaml, else JSON' } }, async (req, reply) => {
    const c = connectorFor(req, req.params.id);
    if (!c.lastReceipt) throw new PreflightError('NOT_FOUND', `connector ${req.params.id} has no receipt yet (state ${c.status})`, { retriable: false });
    if (wantsYaml(req)) return reply.type('application/yaml; charset=utf-8').send(c.lastReceipt.yaml);
    return { ...c.lastReceipt, receipt: parseYaml(c.lastReceipt.yaml) as unknown };
  });

  const registerBody = { type: 'object', description: 'name, sourceType, config (secrets as secretRef only), contract (ODCS v3 YAML), environment, labels, owner, tenant (admins), autoPreflight' };
  const register = async (req: FastifyRequest, dryRun: boolean): Promise<{ status: number; body: Record<string, unknown> }> => {
    const v = validateRegistration(req.body, req.principal!);
    // Secret refs, addresses and paths are checked inside the tenant the connector is registered
    // for (an admin registering for a tenant gets that tenant's scope), with every other problem.
    if (v.config && v.tenant && TENANT_ID.test(v.tenant)) v.issues.push(...(await deps.scopes().forTenant(v.tenant).check(v.config.manifest, v.config.value)));
    if (dryRun) return { status: 200, body: { valid: v.issues.length === 0, issues: v.issues } };
    if (v.issues.length || !v.spec) throw new PreflightError('VALIDATION', `invalid registration: ${v.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, { issues: v.issues, retriable: false });
    const connectorId = `${v.tenant}.${v.spec.name}`;
    const event = newEvent('connector.registered', { spec: v.spec, autoPreflight: v.autoPreflight }, { producer: PRODUCER, tenantId: v.tenant, connectorId, correlationId: crypto.randomUUID(), actor: `user:${req.principal!.subject}` });
    await deps.publish(event);
    return { status: 201, body: { connectorId, eventId: event.eventId, attemptId: v.autoPreflight ? event.correlationId : null, url: `/api/connectors/${encodeURIComponent(connectorId)}` } };
  };
  app.post('/api/connectors', { preHandler: guard('register'), schema: { tags: ['connectors'], body: registerBody } }, async (req, reply) => {
    const r = await register(req, false);
    return reply.code(r.status).send(r.body);
  });
  app.post('/api/connectors/validate', { preHandler: guard('register'), schema: { tags: ['connectors'], body: registerBody } }, async (req) => (await register(req, true)).body);

  app.post<{ Body: { contract: string } }>(
    '/api/contracts/validate',
    { preHandler: guard('read'), schema: { tags: ['connectors'], description: 'Checks an ODCS v3 contract (YAML) without registering anything: every issue at once, and what readiness will read from it', body: { type: 'object', required: ['contract'], additionalProperties: false, properties: { contract: { type: 'string', minLength: 1, maxLength: 1024 * 1024 } } } } },
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

  app.post<{ Params: { id: string }; Body: { reason?: string; timeoutSeconds?: number } | undefined }>(
    '/api/connectors/:id/preflight',
    {
      preHandler: guard('preflight'),
      schema: {
        tags: ['operations'],
        params: idParam,
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 200 } } },
        description: "Starts a preflight; 202 with an operation to poll. Idempotency-Key returns the same operation. Body (optional): reason, timeoutSeconds (1-3600, the operation's deadline).",
      },
    },
    async (req, reply) => {
      const c = connectorFor(req, req.params.id);
      const key = req.headers['idempotency-key'];
      // The body is optional, so it is checked here rather than by a schema (which would demand one).
      const timeoutS = req.body && typeof req.body === 'object' ? req.body.timeoutSeconds : undefined;
      if (timeoutS !== undefined && (typeof timeoutS !== 'number' || !(timeoutS >= 1 && timeoutS <= 3600))) {
        throw new PreflightError('VALIDATION', `timeoutSeconds must be a number from 1 to 3600 (got ${JSON.stringify(timeoutS)})`, { issues: [{ field: 'timeoutSeconds', message: 'must be a number from 1 to 3600', value: timeoutS }], retriable: false });
      }
      const timeoutMs = timeoutS !== undefined ? timeoutS * 1000 : deps.operationTimeoutMs;
      const owner = { principal: req.principal!.subject, team: c.spec.owner };
      const { op, created } = deps.projection().createOperation({ connectorId: c.connectorId, tenantId: c.tenantId, idempotencyKey: typeof key === 'string' ? key : null, timeoutMs, owner });
      if (created) {
        const reason = req.body && typeof req.body === 'object' && typeof req.body.reason === 'string' ? req.body.reason : null;
        await deps.publish(
          newEvent('connector.handshake.requested', { spec: c.spec, operationId: op.id, reason }, {
            producer: PRODUCER,
            tenantId: c.tenantId,
            connectorId: c.connectorId,
            correlationId: op.attemptId,
            actor: `user:${req.principal!.subject}`,
            ...(op.idempotencyKey ? { idempotencyKey: op.idempotencyKey } : {}),
          }),
        );
      }
      return reply.code(202).header('location', `/api/operations/${op.id}`).send(operationBody(op));
    },
  );

  const operationFor = (req: FastifyRequest, id: string): Operation => {
    const op = deps.projection().operations.get(id);
    if (!op || !mayAccessTenant(req.principal!, op.tenantId)) throw new PreflightError('NOT_FOUND', `operation ${id} not found (or expired)`, { retriable: false });
    return op;
  };
  app.get<{ Params: { id: string } }>('/api/operations/:id', { preHandler: guard('read'), schema: { tags: ['operations'], params: idParam } }, async (req) => operationBody(operationFor(req, req.params.id)));

  app.get<{ Querystring: { connector?: string; limit?: string; cursor?: string } }>(
    '/api/operations',
    { preHandler: guard('read'), schema: { tags: ['operations'], description: 'Operations visible to this token, newest first', querystring: { type: 'object', additionalProperties: false, properties: { connector: { type: 'string' }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: '1-999, default 100' }, cursor: { type: 'string', pattern: '^[0-9]+$' } } } } },
    async (req) => {
      const all = [...deps.projection().operations.values()]
        .filter((op) => mayAccessTenant(req.principal!, op.tenantId) && (!req.query.connector || op.connectorId === req.query.connector))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
      const from = Number(req.query.cursor ?? 0);
      const limit = Number(req.query.limit ?? 100);
      return { operations: all.slice(from, from + limit).map(operationBody), nextCursor: from + limit < all.length ? String(from + limit) : null };
    },
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/api/operations/:id/cancel',
    { preHandler: guard('preflight'), schema: { tags: ['operations'], params: idParam, description: 'Body (optional): reason. Asks to cancel a running preflight; 202. The attempt then ends FAILED with reason CANCELLED and the operation CANCELLED.' } },
    async (req, reply) => {
      const op = operationFor(req, req.params.id);
      if (op.done) throw new PreflightError('CONFLICT', `operation ${op.id} is already ${op.status}; only a running preflight can be cancelled`, { retriable: false });
      if (!op.cancelRequestedAt) {
        await deps.publish(
          newEvent('connector.cancel.requested', { operationId: op.id, reason: req.body && typeof req.body === 'object' && typeof req.body.reason === 'string' ? req.body.reason.slice(0, 2000) : null }, { producer: PRODUCER, tenantId: op.tenantId, connectorId: op.connectorId, correlationId: op.attemptId, actor: `user:${req.principal!.subject}`, idempotencyKey: `cancel:${op.id}` }),
        );
      }
      return reply.code(202).send(operationBody(deps.projection().requestCancel(op.id) ?? op));
    },
  );

  app.post<{ Params: { id: string }; Body: { decision: 'APPROVED' | 'REJECTED'; comment?: string } }>(
    '/api/connectors/:id/approvals',
    { preHandler: guard('approve'), schema: { tags: ['connectors'], params: idParam, body: { type: 'object', required: ['decision'], additionalProperties: false, properties: { decision: { type: 'string', enum: ['APPROVED', 'REJECTED'] }, comment: { type: 'string', maxLength: 2000 } } } } },
    async (req, reply) => {
      const c = connectorFor(req, req.params.id);
      if (!c.pendingApproval) throw new PreflightError('CONFLICT', `connector ${c.connectorId} is not awaiting approval (state ${c.status})`, { retriable: false });
      const e = newEvent('connector.approval.decided', { decision: req.body.decision, policy: c.pendingApproval.policy, comment: req.body.comment ?? null }, { producer: PRODUCER, tenantId: c.tenantId, connectorId: c.connectorId, correlationId: c.pendingApproval.attemptId, actor: `user:${req.principal!.subject}` });
      await deps.publish(e);
      return reply.code(202).send({ eventId: e.eventId, attemptId: c.pendingApproval.attemptId, decision: req.body.decision });
    },
  );

  app.get<{ Querystring: { tenant?: string } }>('/api/metrics', { preHandler: guard('read'), schema: { tags: ['ops'], querystring: { type: 'object', properties: { tenant: { type: 'string' } } } } }, async (req, reply) => {
    const p = req.principal!;
    const tenant = req.query.tenant ?? (allTenants(p) ? undefined : p.tenant);
    if (tenant && !mayAccessTenant(p, tenant)) throw new PreflightError('FORBIDDEN', `you may not read metrics of tenant ${tenant}`, { retriable: false });
    const series = [...deps.projection().series].sort(([a], [b]) => a.localeCompare(b)).map(([minute, c]) => ({ minute, ...c }));
    return send(req, reply, { tenant: tenant ?? 'all', metrics: deps.projection().metrics(tenant), series: allTenants(p) ? series : [] });
  });

  app.get<{ Querystring: { status?: 'open' | 'resolved' | 'all' } & ListQuery<IncidentSort> }>(
    '/api/incidents',
    { preHandler: guard('read'), schema: { tags: ['ops'], description: 'Incidents: open (default), resolved or all; one page, filtered and sorted on the server (follow nextCursor)', querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'resolved', 'all'] }, ...listQuerySchema(INCIDENT_SORTS, 'openedAt') } } } },
    async (req, reply) => {
      const page = pageIncidents(deps.projection().incidents(req.query.status ?? 'open').filter((i) => mayAccessTenant(req.principal!, i.tenantId)), req.query);
      return send(req, reply, { incidents: page.items, total: page.total, nextCursor: page.nextCursor });
    },
  );
  app.get<{ Querystring: ListQuery<AlertSort> }>(
    '/api/alerts',
    { preHandler: guard('read'), schema: { tags: ['ops'], description: 'Alerts, one page, filtered and sorted on the server (follow nextCursor)', querystring: { type: 'object', additionalProperties: false, properties: listQuerySchema(ALERT_SORTS, 'raisedAt') } } },
    async (req, reply) => {
      const page = pageAlerts(deps.projection().alerts().filter((a) => mayAccessTenant(req.principal!, a.tenantId)), req.query);
      return send(req, reply, { alerts: page.items, total: page.total, nextCursor: page.nextCursor });
    },
  );
  app.get('/api/topics', { preHandler: guard('observe'), schema: { tags: ['ops'], description: 'Per topic: messages, rate and each service group\'s lag' } }, async (req, reply) => send(req, reply, { topics: deps.topics ? await deps.topics.rows() : [] }));
  app.get('/api/me', { preHandler: guard('read'), schema: { tags: ['ops'] } }, async (req) => req.principal);
  app.post('/api/admin/rebuild', { preHandler: guard('operate'), schema: { tags: ['ops'], description: 'Rebuild the projection from the event log' } }, async () => {
    if (!deps.rebuild) throw new PreflightError('NOT_FOUND', 'rebuild is not available here', { retriable: false });
    return deps.rebuild();
  });

  // Loaded on demand so the CLI, which imports this package for its client, does not load the SDK.
  await app.register((await import('./mcp/http.js')).mcpHttp, { auth: deps.auth, api: app });

  const staticFile = (name: string) => async (_req: FastifyRequest, reply: FastifyReply) => reply.type(TYPES[extname(name)] ?? 'application/octet-stream').header('cache-control', 'no-cache').send(readFileSync(join(STATIC, name)));
  app.get('/', { schema: { hide: true } }, staticFile('index.html'));
  app.get('/dashboard', { schema: { hide: true } }, staticFile('index.html'));
  for (const f of ['app.js', 'style.css']) app.get(`/dashboard/${f}`, { schema: { hide: true } }, staticFile(f));
  return app;
}
