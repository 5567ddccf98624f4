import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PreflightError } from '@preflight/core';
import { newEvent } from '@preflight/events';
import { mayAccessTenant } from '@preflight/auth';
import type { Operation } from '../projection.js';
import { guard } from './auth.js';
import { actorOf, arrayOf, connectorFor, ERROR_STATUSES, errorBody, idParam, nullableStr, open, operationBody, operationSchema, PRODUCER, type ApiDeps } from './common.js';

/** A body only when one is sent: fastify validates per content type, so a bodiless POST skips it. */
const optionalJson = (schema: Record<string, unknown>) => ({ content: { 'application/json': { schema } } });

/** Async preflights as long-running operations: start (idempotent), poll, list, cancel. */
export const operationRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  // The publishes of requests still in flight, by operation: a retry with the same idempotency key
  // that arrives meanwhile (a client that gave up waiting) must not answer 202 for a request the
  // log may never hold. Chaos lost an attempt that way: the retry got the operation, then the
  // first publish failed and the operation was forgotten.
  const publishing = new Map<string, Promise<void>>();
  app.post<{ Params: { id: string }; Body: { reason?: string; timeoutSeconds?: number } | undefined }>(
    '/api/connectors/:id/preflight',
    {
      onRequest: guard(deps.auth, 'preflight'),
      schema: {
        tags: ['operations'],
        params: idParam,
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 200 } } },
        description: "Starts a preflight; 202 with an operation to poll. Idempotency-Key returns the same operation. Body (optional): reason, timeoutSeconds (1-3600, the operation's deadline).",
        body: optionalJson({ type: 'object', properties: { reason: { type: 'string', maxLength: 2000 }, timeoutSeconds: { type: 'number', minimum: 1, maximum: 3600, description: "the operation's deadline; default the platform's" } } }),
        response: { 202: operationSchema, ...ERROR_STATUSES },
      },
    },
    async (req, reply) => {
      const c = connectorFor(deps, req, req.params.id);
      if (c.retired) throw new PreflightError('CONFLICT', `connector ${c.connectorId} was deregistered at ${c.retired.at} by ${c.retired.actor}${c.retired.reason ? ` (${c.retired.reason})` : ''}; a retired connector is not preflighted`, { retriable: false });
      const key = req.headers['idempotency-key'];
      const timeoutS = req.body?.timeoutSeconds;
      const timeoutMs = timeoutS !== undefined ? timeoutS * 1000 : deps.operationTimeoutMs;
      const owner = { principal: req.principal!.subject, team: c.spec.owner };
      const { op, created } = deps.projection().createOperation({ connectorId: c.connectorId, tenantId: c.tenantId, idempotencyKey: typeof key === 'string' ? key : null, timeoutMs, owner, now: new Date() });
      if (created) {
        const reason = req.body?.reason ?? null;
        const requested = newEvent('connector.handshake.requested', { spec: c.spec, operationId: op.id, reason }, {
          producer: PRODUCER,
          tenantId: c.tenantId,
          connectorId: c.connectorId,
          correlationId: op.attemptId,
          actor: actorOf(req),
          ...(op.idempotencyKey ? { idempotencyKey: op.idempotencyKey } : {}),
        });
        const sent = deps.publish(requested).catch((e: unknown) => {
          // Not on the log, so not started: forgotten, so a retry with the same key starts it.
          deps.projection().forgetOperation(op.id);
          throw e;
        });
        publishing.set(op.id, sent);
        try {
          await sent;
        } finally {
          publishing.delete(op.id);
        }
      } else {
        // Answers only once the first request's publish has gone through; if it fails, this one
        // fails with it (retriable), and the client's next retry starts the preflight afresh.
        await publishing.get(op.id);
      }
      return reply.code(202).header('location', `/api/operations/${op.id}`).send(operationBody(op));
    },
  );

  const operationFor = (req: FastifyRequest, id: string): Operation => {
    const op = deps.projection().operations.get(id);
    if (!op || !mayAccessTenant(req.principal!, op.tenantId)) throw new PreflightError('NOT_FOUND', `operation ${id} not found (or expired)`, { retriable: false });
    return op;
  };
  app.get<{ Params: { id: string } }>('/api/operations/:id', { onRequest: guard(deps.auth, 'read'), schema: { tags: ['operations'], params: idParam, response: { 200: operationSchema, ...ERROR_STATUSES } } }, async (req) => operationBody(operationFor(req, req.params.id)));

  app.get<{ Querystring: { connector?: string; limit?: string; cursor?: string } }>(
    '/api/operations',
    { onRequest: guard(deps.auth, 'read'), schema: { tags: ['operations'], description: 'Operations visible to this token, newest first', querystring: { type: 'object', additionalProperties: false, properties: { connector: { type: 'string' }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: '1-999, default 100' }, cursor: { type: 'string', pattern: '^[0-9]+$' } } }, response: { 200: open({ operations: arrayOf(operationSchema), nextCursor: nullableStr }, ['operations', 'nextCursor']), ...ERROR_STATUSES } } },
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
    { onRequest: guard(deps.auth, 'preflight'), schema: {
        tags: ['operations'],
        params: idParam,
        description: 'Body (optional): reason. Asks to cancel a running preflight; 202. The attempt then ends FAILED with reason CANCELLED and the operation CANCELLED.',
        body: optionalJson({ type: 'object', properties: { reason: { type: 'string' } } }),
        response: { 202: operationSchema, ...ERROR_STATUSES, 409: errorBody },
      },
    },
    async (req, reply) => {
      const op = operationFor(req, req.params.id);
      if (op.done) throw new PreflightError('CONFLICT', `operation ${op.id} is already ${op.status}; only a running preflight can be cancelled`, { retriable: false });
      if (!op.cancelRequestedAt) {
        await deps.publish(
          newEvent('connector.cancel.requested', { operationId: op.id, reason: req.body?.reason?.slice(0, 2000) ?? null }, { producer: PRODUCER, tenantId: op.tenantId, connectorId: op.connectorId, correlationId: op.attemptId, actor: actorOf(req), idempotencyKey: `cancel:${op.id}` }),
        );
      }
      return reply.code(202).send(operationBody(deps.projection().requestCancel(op.id, new Date()) ?? op));
    },
  );
};
