import type { FastifyError, FastifyInstance } from 'fastify';
import { HTTP_STATUS, isPreflightError, type Logger } from '@preflight/core';

/** Fastify's own body errors, as the caller's mistake they are. */
const BODY_ERRORS: Record<string, [status: number, message: (e: FastifyError) => string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, (e) => `the body is not valid JSON: ${e.message}`],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, (e) => `the body is not valid JSON: ${e.message}`],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, () => 'the body is larger than 1 MiB'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, () => 'send application/json'],
};

/** Schema failures as field issues, like every other validation error of the platform. */
export function schemaIssues(validation: NonNullable<FastifyError['validation']>): Array<{ field: string; message: string }> {
  return validation.map((v) => {
    const missing = typeof v.params?.['missingProperty'] === 'string' ? v.params['missingProperty'] : undefined;
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    return { field: [path, missing].filter(Boolean).join('.') || 'body', message: v.message ?? 'invalid' };
  });
}

/**
 * One error body for the whole API: `{code, message, issues?}`, the status from the error code's
 * table in @preflight/core. Set on the root instance so every plugin inherits it.
 */
export function installErrorHandling(app: FastifyInstance, logger?: Logger): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const issues = schemaIssues(err.validation);
      return reply.code(400).send({ code: 'VALIDATION', message: `invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, issues });
    }
    if (isPreflightError(err)) return reply.code(HTTP_STATUS[err.code]).send(err.toJSON());
    const known = BODY_ERRORS[err.code];
    if (known) return reply.code(known[0]).send({ code: 'VALIDATION', message: known[1](err) });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ code: 'VALIDATION', message: err.message });
    logger?.error({ err, url: req.url }, 'unexpected API error');
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error; see the projector log' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
}
