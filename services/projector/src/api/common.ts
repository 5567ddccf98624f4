import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify } from 'yaml';
import { PreflightError, type Logger } from '@preflight/core';
import type { Scopes } from '@preflight/connectors';
import type { ConnectorEvent } from '@preflight/events';
import { mayAccessTenant, type Authenticator } from '@preflight/auth';
import type { Operation, OperationStatus, Projection } from '../projection.js';
import type { ConnectorState } from '../state.js';
import type { TopicStats } from '../topics.js';
import type { McpHttpOptions } from '../mcp/http.js';

/** The `producer` of every event the API publishes. */
export const PRODUCER = 'projector-api@0.1.0';

/** What the API needs from the projector; every route plugin takes this as its options. */
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
  /** `/mcp`'s public URL and allowed browser origins (the projector's config). */
  mcp?: Pick<McpHttpOptions, 'publicUrl' | 'allowedOrigins'>;
}

export function wantsYaml(req: FastifyRequest): boolean {
  return /yaml/i.test(req.headers.accept ?? '');
}

/** JSON, or YAML when the client asks for it in Accept. */
export function send(req: FastifyRequest, reply: FastifyReply, body: unknown): FastifyReply {
  if (wantsYaml(req)) return reply.type('application/yaml; charset=utf-8').send(stringify(body, { lineWidth: 0 }));
  return reply.send(body);
}

export const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

/** A connector this principal may see; another tenant's answers exactly like a missing one (no existence leak). */
export function connectorFor(deps: ApiDeps, req: FastifyRequest, id: string): ConnectorState {
  const c = deps.projection().connectors.get(id);
  if (!c || !mayAccessTenant(req.principal!, c.tenantId)) throw new PreflightError('NOT_FOUND', `connector ${id} not found`, { retriable: false });
  return c;
}

export function operationBody(op: Operation): Record<string, unknown> {
  return { ...op, statusUrl: `/api/operations/${op.id}`, pollInterval: 1, ttl: op.ttlSeconds };
}

/** The actor and correlation every API-published event carries. */
export function actorOf(req: FastifyRequest): string {
  return `user:${req.principal!.subject}`;
}

// Response schemas document each route in /openapi.json. Responses are serialized as they are
// (see http.ts), so a schema never drops or coerces a field; the OpenAPI test checks real
// responses against them. `open` objects list the fields a client can rely on and allow more.
type Json = Record<string, unknown>;
export const open = (properties: Json, required: string[] = []): Json => ({ type: 'object', additionalProperties: true, properties, ...(required.length ? { required } : {}) });
export const str = { type: 'string' } as const;
export const nullableStr = { type: 'string', nullable: true } as const;
export const int = { type: 'integer' } as const;
export const bool = { type: 'boolean' } as const;
export const arrayOf = (items: Json): Json => ({ type: 'array', items });

const issue = open({ field: str, message: str, value: {} }, ['field', 'message']);
export const errorBody = open({ code: str, message: str, retriable: bool, issues: arrayOf(issue), details: open({}) }, ['code', 'message']);
/** What the error handler can answer on a route that needs a token. */
export const ERROR_STATUSES = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody } as const;

export const operationSchema = open(
  {
    id: str,
    connectorId: str,
    tenantId: str,
    attemptId: str,
    status: { type: 'string', enum: ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] satisfies OperationStatus[] },
    done: bool,
    createdAt: str,
    updatedAt: str,
    deadline: str,
    ttlSeconds: int,
    idempotencyKey: nullableStr,
    result: { ...open({ status: { type: 'string', enum: ['READY', 'FAILED'] }, reason: nullableStr, validatedBy: str, receiptUrl: str }), nullable: true },
    error: { ...open({ code: str, message: str }), nullable: true },
    statusUrl: str,
    pollInterval: int,
    ttl: int,
  },
  ['id', 'connectorId', 'status', 'done', 'statusUrl'],
);
