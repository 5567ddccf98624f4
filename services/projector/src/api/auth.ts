import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PreflightError } from '@preflight/core';
import { can, type Authenticator, type Permission, type Principal } from '@preflight/auth';
import { ERROR_STATUSES, type ApiDeps } from './common.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `guard` before the handler runs; routes without a guard have none. */
    principal?: Principal;
  }
}

/** An onRequest hook: a valid bearer token whose roles allow `perm`, else 401/403 before the body is even read. */
export function guard(auth: Authenticator, perm: Permission): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    const principal = await auth.verify(req.headers.authorization);
    if (!can(principal, perm)) throw new PreflightError('FORBIDDEN', `role(s) ${principal.roles.join(', ')} may not ${perm}; needs one of the roles allowed to ${perm}`, { retriable: false });
    req.principal = principal;
  };
}

const principalSchema = { type: 'object', required: ['subject', 'roles', 'tenant'], properties: { subject: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } }, tenant: { type: 'string' } } } as const;

/** Who the token says you are. */
export const authRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.get('/api/me', { onRequest: guard(deps.auth, 'read'), schema: { tags: ['ops'], response: { 200: principalSchema, ...ERROR_STATUSES } } }, async (req) => req.principal);
};
