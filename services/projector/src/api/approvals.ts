import type { FastifyPluginAsync } from 'fastify';
import { PreflightError } from '@preflight/core';
import { newEvent } from '@preflight/events';
import { guard } from './auth.js';
import { actorOf, ERROR_STATUSES, errorBody, idParam, open, PRODUCER, str, connectorFor, type ApiDeps } from './common.js';

/** A security admin's decision on a connector that waits for approval. */
export const approvalRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.post<{ Params: { id: string }; Body: { decision: 'APPROVED' | 'REJECTED'; comment?: string } }>(
    '/api/connectors/:id/approvals',
    { onRequest: guard(deps.auth, 'approve'), schema: { tags: ['connectors'], params: idParam, body: { type: 'object', required: ['decision'], additionalProperties: false, properties: { decision: { type: 'string', enum: ['APPROVED', 'REJECTED'] }, comment: { type: 'string', maxLength: 2000 } } },
        response: { 202: open({ eventId: str, attemptId: str, decision: str }, ['eventId', 'attemptId', 'decision']), ...ERROR_STATUSES, 409: errorBody },
      },
    },
    async (req, reply) => {
      const c = connectorFor(deps, req, req.params.id);
      if (!c.pendingApproval) throw new PreflightError('CONFLICT', `connector ${c.connectorId} is not awaiting approval (state ${c.status})`, { retriable: false });
      const e = newEvent('connector.approval.decided', { decision: req.body.decision, policy: c.pendingApproval.policy, comment: req.body.comment ?? null }, { producer: PRODUCER, tenantId: c.tenantId, connectorId: c.connectorId, correlationId: c.pendingApproval.attemptId, actor: actorOf(req) });
      await deps.publish(e);
      return reply.code(202).send({ eventId: e.eventId, attemptId: c.pendingApproval.attemptId, decision: req.body.decision });
    },
  );
};
