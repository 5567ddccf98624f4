import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { isLevel, type CompatibilityLevel } from './compat.js';
import { CODES, invalidCompatibility, invalidSchema, invalidVersion, RegistryError, schemaNotFound, subjectNotFound } from './errors.js';
import type { RegisterInput, Registry } from './registry.js';
import type { SchemaReference, SchemaType, VersionRecord } from './store.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const BODY_LIMIT = 1024 * 1024;

function parseVersion(raw: string): number | 'latest' {
  if (raw === 'latest' || raw === '-1') return 'latest';
  if (!/^\d+$/.test(raw)) throw invalidVersion(raw);
  const n = Number(raw);
  if (n < 1 || n > 2 ** 31 - 1) throw invalidVersion(raw);
  return n;
}

function parseRegisterBody(body: unknown): RegisterInput {
  if (!body || typeof body !== 'object') throw invalidSchema('the request body must be a JSON object with a "schema" field');
  const b = body as Record<string, unknown>;
  if (typeof b['schema'] !== 'string' || b['schema'].trim() === '') throw invalidSchema('field "schema" must be a non-empty string');
  const schemaType = (b['schemaType'] ?? 'AVRO') as string;
  if (!['AVRO', 'JSON', 'PROTOBUF'].includes(schemaType)) throw invalidSchema(`unknown schemaType "${schemaType}"`);
  const refs = b['references'] ?? [];
  if (!Array.isArray(refs) || refs.some((r) => !r || typeof r !== 'object' || typeof (r as SchemaReference).name !== 'string' || typeof (r as SchemaReference).subject !== 'string' || typeof (r as SchemaReference).version !== 'number')) {
    throw invalidSchema('field "references" must be a list of {name, subject, version}');
  }
  return { schema: b['schema'], schemaType: schemaType as SchemaType, references: refs as SchemaReference[] };
}

function versionBody(v: VersionRecord): Record<string, unknown> {
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    ...(v.schemaType !== 'AVRO' ? { schemaType: v.schemaType } : {}),
    ...(v.references.length ? { references: v.references } : {}),
    schema: v.schema,
  };
}

const bool = (v: unknown): boolean => v === 'true' || v === true;

export function buildHttp(registry: Registry, loggerInstance?: FastifyBaseLogger): FastifyInstance {
  const options = { bodyLimit: BODY_LIMIT, routerOptions: { ignoreTrailingSlash: true } };
  const app = (loggerInstance ? Fastify({ ...options, loggerInstance }) : Fastify({ ...options, logger: false })) as unknown as FastifyInstance;
  for (const type of [CONTENT_TYPE, 'application/vnd.schemaregistry+json', 'application/octet-stream']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, body === '' ? {} : JSON.parse(body as string));
      } catch (e) {
        done(new RegistryError(400, 400, `Unexpected JSON: ${(e as Error).message}`), undefined);
      }
    });
  }
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('content-type') || String(reply.getHeader('content-type')).startsWith('application/json')) reply.header('content-type', CONTENT_TYPE);
    return payload;
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof RegistryError) return reply.code(err.status).send(err.toBody());
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error_code: 413, message: `Request body is larger than ${BODY_LIMIT} bytes` });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error_code: 415, message: 'Unsupported Media Type' });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error_code: err.statusCode, message: err.message });
    return reply.code(500).send({ error_code: CODES.STORE_ERROR, message: `Error in the backend data store: ${err.message}` });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error_code: 404, message: `HTTP 404 Not Found: ${req.method} ${req.url}` }));

  const s = registry.state;
  type P = { subject: string; version: string; id: string };
  type Q = { deleted?: string; permanent?: string; defaultToGlobal?: string; verbose?: string };

  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => ['JSON', 'PROTOBUF', 'AVRO']);
  app.get<{ Querystring: Q }>('/subjects', async (req) => s.subjects(bool(req.query.deleted)));

  app.get<{ Params: P; Querystring: Q }>('/subjects/:subject/versions', async (req) => {
    const list = s.list(req.params.subject, bool(req.query.deleted));
    if (list.length === 0) throw subjectNotFound(req.params.subject);
    return list.map((v) => v.version);
  });

  app.post<{ Params: P }>('/subjects/:subject/versions', async (req) => ({ id: await registry.register(req.params.subject, parseRegisterBody(req.body)) }));

  app.post<{ Params: P; Querystring: Q }>('/subjects/:subject', async (req) => {
    const input = parseRegisterBody(req.body);
    if (s.list(req.params.subject, true).length === 0) throw subjectNotFound(req.params.subject);
    const found = registry.lookup(req.params.subject, input, bool(req.query.deleted));
    if (!found) throw schemaNotFound();
    return versionBody(found);
  });

  app.get<{ Params: P; Querystring: Q }>('/subjects/:subject/versions/:version', async (req) =>
    versionBody(registry.version(req.params.subject, parseVersion(req.params.version), bool(req.query.deleted))),
  );

  app.get<{ Params: P; Querystring: Q }>('/subjects/:subject/versions/:version/schema', async (req, reply) => {
    const v = registry.version(req.params.subject, parseVersion(req.params.version), bool(req.query.deleted));
    return reply.type(CONTENT_TYPE).send(v.schema);
  });

  app.get<{ Params: P }>('/subjects/:subject/versions/:version/referencedby', async (req) => {
    const v = registry.version(req.params.subject, parseVersion(req.params.version));
    return [...s.byId.entries()].filter(([, x]) => x.references.some((r) => r.subject === v.subject && r.version === v.version)).map(([id]) => id);
  });

  app.delete<{ Params: P; Querystring: Q }>('/subjects/:subject', async (req) => registry.deleteSubject(req.params.subject, bool(req.query.permanent)));

  app.delete<{ Params: P; Querystring: Q }>('/subjects/:subject/versions/:version', async (req) =>
    registry.deleteVersion(req.params.subject, parseVersion(req.params.version), bool(req.query.permanent)),
  );

  const idOf = (raw: string): number => {
    if (!/^\d+$/.test(raw)) throw schemaNotFound();
    return Number(raw);
  };
  app.get<{ Params: P }>('/schemas/ids/:id', async (req) => {
    const x = registry.schemaById(idOf(req.params.id));
    return { ...(x.schemaType !== 'AVRO' ? { schemaType: x.schemaType } : {}), ...(x.references.length ? { references: x.references } : {}), schema: x.schema };
  });
  app.get<{ Params: P }>('/schemas/ids/:id/schema', async (req, reply) => reply.type(CONTENT_TYPE).send(registry.schemaById(idOf(req.params.id)).schema));
  app.get<{ Params: P; Querystring: Q }>('/schemas/ids/:id/versions', async (req) => {
    const id = idOf(req.params.id);
    registry.schemaById(id);
    return s.subjects(true).flatMap((sub) => s.list(sub, bool(req.query.deleted)).filter((v) => v.id === id).map((v) => ({ subject: sub, version: v.version })));
  });
  app.get<{ Params: P; Querystring: Q }>('/schemas/ids/:id/subjects', async (req) => {
    const id = idOf(req.params.id);
    registry.schemaById(id);
    return s.subjects(true).filter((sub) => s.list(sub, bool(req.query.deleted)).some((v) => v.id === id));
  });

  const compat = async (subject: string, version: string | undefined, body: unknown, verbose: boolean): Promise<Record<string, unknown>> => {
    const input = parseRegisterBody(body);
    const all = s.list(subject);
    let against: VersionRecord[];
    if (version === undefined) against = all;
    else {
      if (all.length === 0) throw subjectNotFound(subject);
      const v = registry.version(subject, parseVersion(version));
      against = all.filter((x) => x.version <= v.version);
    }
    const level = s.levelFor(subject);
    const r = registry.compatibility(subject, input, level, version === undefined || level.endsWith('TRANSITIVE') ? against : against.slice(-1));
    return { is_compatible: r.compatible, ...(verbose ? { messages: r.messages } : {}) };
  };
  app.post<{ Params: P; Querystring: Q }>('/compatibility/subjects/:subject/versions/:version', async (req) => compat(req.params.subject, req.params.version, req.body, bool(req.query.verbose)));
  app.post<{ Params: P; Querystring: Q }>('/compatibility/subjects/:subject/versions', async (req) => compat(req.params.subject, undefined, req.body, bool(req.query.verbose)));

  const levelFrom = (body: unknown): CompatibilityLevel => {
    const v = body && typeof body === 'object' ? (body as Record<string, unknown>)['compatibility'] : undefined;
    if (!isLevel(v)) throw invalidCompatibility(v);
    return v.toUpperCase() as CompatibilityLevel;
  };
  app.get('/config', async () => ({ compatibilityLevel: s.globalLevel }));
  app.put('/config', async (req) => {
    const level = levelFrom(req.body);
    await registry.setConfig(null, level);
    return { compatibility: level };
  });
  app.delete('/config', async () => {
    const prev = s.globalLevel;
    await registry.setConfig(null, null);
    return { compatibilityLevel: prev };
  });
  app.get<{ Params: P; Querystring: Q }>('/config/:subject', async (req) => {
    const own = s.config.get(req.params.subject);
    if (own) return { compatibilityLevel: own };
    if (bool(req.query.defaultToGlobal)) return { compatibilityLevel: s.globalLevel };
    throw new RegistryError(404, CODES.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED, `Subject '${req.params.subject}' does not have subject-level compatibility configured`);
  });
  app.put<{ Params: P }>('/config/:subject', async (req) => {
    const level = levelFrom(req.body);
    await registry.setConfig(req.params.subject, level);
    return { compatibility: level };
  });
  app.delete<{ Params: P }>('/config/:subject', async (req) => {
    if (s.list(req.params.subject, true).length === 0 && !s.config.has(req.params.subject)) throw subjectNotFound(req.params.subject);
    const prev = s.config.get(req.params.subject) ?? s.globalLevel;
    await registry.setConfig(req.params.subject, null);
    return { compatibilityLevel: prev };
  });

  const modeFrom = (body: unknown): string => {
    const m = body && typeof body === 'object' ? (body as Record<string, unknown>)['mode'] : undefined;
    if (typeof m !== 'string' || !['READWRITE', 'READONLY', 'IMPORT'].includes(m.toUpperCase())) {
      throw new RegistryError(422, CODES.INVALID_MODE, `Invalid mode. Valid values are READWRITE, READONLY and IMPORT (got ${JSON.stringify(m)})`);
    }
    return m.toUpperCase();
  };
  app.get('/mode', async () => ({ mode: s.globalMode }));
  app.put('/mode', async (req) => {
    const mode = modeFrom(req.body);
    await registry.setMode(null, mode);
    return { mode };
  });
  app.get<{ Params: P; Querystring: Q }>('/mode/:subject', async (req) => {
    const m = s.mode.get(req.params.subject);
    if (m) return { mode: m };
    if (bool(req.query.defaultToGlobal)) return { mode: s.globalMode };
    throw new RegistryError(404, 40409, `Subject '${req.params.subject}' does not have subject-level mode configured`);
  });
  app.put<{ Params: P }>('/mode/:subject', async (req) => {
    const mode = modeFrom(req.body);
    await registry.setMode(req.params.subject, mode);
    return { mode };
  });
  return app;
}

