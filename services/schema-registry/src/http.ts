import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { CODES, compatibilityNotConfigured, modeNotConfigured, RegistryError, subjectNotFound } from './errors.js';
import type { Registry } from './registry.js';
import { flag, parseConfigRequest, parseId, parseModeRequest, parseRegisterRequest, parseVersion, validateSubject } from './requests.js';
import { schemaValue, type SchemaEntry, type VersionRecord } from './store.js';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Kafka's default message.max.bytes is 1 MiB: a larger schema could never be stored anyway. */
export const BODY_LIMIT = 1024 * 1024;

/** What a client reads of a version: the stored record's shape without the deletion flag. */
function versionBody(v: VersionRecord): Record<string, unknown> {
  const { deleted: _deleted, ...body } = schemaValue(v);
  return body;
}

function schemaBody(s: SchemaEntry): Record<string, unknown> {
  return {
    ...(s.schemaType !== 'AVRO' ? { schemaType: s.schemaType } : {}),
    ...(s.references.length ? { references: s.references } : {}),
    ...(s.metadata ? { metadata: s.metadata } : {}),
    ...(s.ruleSet ? { ruleSet: s.ruleSet } : {}),
    schema: s.schema,
  };
}

type Params = { subject: string; version: string; id: string };
type Query = Record<string, string | undefined>;

/**
 * The REST surface of Confluent Schema Registry over {@link Registry}. Everything a client can send
 * ends as a JSON error body with Confluent's code; only a fault of the store itself is a 5xx.
 */
export function buildHttp(registry: Registry, logger?: FastifyBaseLogger): FastifyInstance {
  const options = {
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    // A URL that does not decode (a stray %) is answered by the router itself, outside the error handler.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      void reply.code(400).send({ error_code: 400, message: err.message });
    },
  };
  // Per-request lines at info would drown the service's own; failures are logged below at error.
  const app = (logger ? Fastify({ ...options, loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }) }) : Fastify({ ...options, logger: false })) as unknown as FastifyInstance;

  // Clients send the registry's own media types; curl users send octet-stream or nothing useful.
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(['application/json', CONTENT_TYPE, 'application/vnd.schemaregistry+json', 'application/octet-stream', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new RegistryError(400, 400, `Unexpected character in the JSON request body: ${(e as Error).message}`), undefined);
    }
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (!type || String(type).startsWith('application/json')) reply.header('content-type', CONTENT_TYPE);
    return payload;
  });

  app.setErrorHandler((err: FastifyError | RegistryError, req, reply) => {
    if (err instanceof RegistryError) {
      if (err.status >= 500) req.log.error({ err }, 'schema registry store error');
      return reply.code(err.status).send(err.toBody());
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error_code: 413, message: `Request body is larger than ${BODY_LIMIT} bytes` });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error_code: 415, message: 'HTTP 415 Unsupported Media Type' });
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error_code: status, message: err.message });
    req.log.error({ err }, 'unexpected schema registry error');
    return reply.code(500).send({ error_code: CODES.STORE_ERROR, message: 'Internal error in the schema registry' });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error_code: 404, message: 'HTTP 404 Not Found' }));

  const s = registry.state;

  app.get('/', async () => ({}));
  app.get('/schemas/types', async () => ['JSON', 'PROTOBUF', 'AVRO']);

  app.get<{ Querystring: Query }>('/subjects', async (req) => s.subjects(flag(req.query['deleted']), req.query['subjectPrefix'] ?? ''));

  app.get<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions', async (req) => {
    const list = s.list(req.params.subject, flag(req.query['deleted']));
    if (list.length === 0) throw subjectNotFound(req.params.subject);
    return list.map((v) => v.version);
  });

  app.post<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions', async (req) => ({
    id: await registry.register(req.params.subject, parseRegisterRequest(req.body, flag(req.query['normalize']))),
  }));

  app.post<{ Params: Params; Querystring: Query }>('/subjects/:subject', async (req) =>
    versionBody(registry.lookup(req.params.subject, parseRegisterRequest(req.body, flag(req.query['normalize'])), flag(req.query['deleted']))),
  );

  app.get<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions/:version', async (req) =>
    versionBody(registry.version(req.params.subject, parseVersion(req.params.version), flag(req.query['deleted']))),
  );

  app.get<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions/:version/schema', async (req, reply) => {
    const v = registry.version(req.params.subject, parseVersion(req.params.version), flag(req.query['deleted']));
    return reply.type(CONTENT_TYPE).send(v.schema);
  });

  app.get<{ Params: Params }>('/subjects/:subject/versions/:version/referencedby', async (req) => {
    const v = registry.version(req.params.subject, parseVersion(req.params.version));
    return s.referencedBy(v.subject, v.version);
  });

  app.delete<{ Params: Params; Querystring: Query }>('/subjects/:subject', async (req) => registry.deleteSubject(req.params.subject, flag(req.query['permanent'])));

  app.delete<{ Params: Params; Querystring: Query }>('/subjects/:subject/versions/:version', async (req) =>
    registry.deleteVersion(req.params.subject, parseVersion(req.params.version), flag(req.query['permanent'])),
  );

  app.get<{ Querystring: Query }>('/schemas', async (req) => {
    const deleted = flag(req.query['deleted']);
    const latestOnly = flag(req.query['latestOnly']);
    return s.subjects(deleted, req.query['subjectPrefix'] ?? '').flatMap((subject) => {
      const versions = s.list(subject, deleted);
      return (latestOnly ? versions.slice(-1) : versions).map(versionBody);
    });
  });

  app.get<{ Params: Params }>('/schemas/ids/:id', async (req) => schemaBody(registry.schemaById(parseId(req.params.id))));
  app.get<{ Params: Params }>('/schemas/ids/:id/schema', async (req, reply) => reply.type(CONTENT_TYPE).send(registry.schemaById(parseId(req.params.id)).schema));
  app.get<{ Params: Params; Querystring: Query }>('/schemas/ids/:id/versions', async (req) => {
    const id = parseId(req.params.id);
    registry.schemaById(id);
    return s.usesOf(id, flag(req.query['deleted']));
  });
  app.get<{ Params: Params; Querystring: Query }>('/schemas/ids/:id/subjects', async (req) => {
    const id = parseId(req.params.id);
    registry.schemaById(id);
    return [...new Set(s.usesOf(id, flag(req.query['deleted'])).map((u) => u.subject))];
  });

  const compatibility = (subject: string, version: string | undefined, body: unknown, verbose: boolean): Record<string, unknown> => {
    validateSubject(subject);
    const r = registry.compatibility(subject, version === undefined ? undefined : parseVersion(version), parseRegisterRequest(body));
    return { is_compatible: r.compatible, ...(verbose ? { messages: r.messages } : {}) };
  };
  app.post<{ Params: Params; Querystring: Query }>('/compatibility/subjects/:subject/versions/:version', async (req) =>
    compatibility(req.params.subject, req.params.version, req.body, flag(req.query['verbose'])),
  );
  app.post<{ Params: Params; Querystring: Query }>('/compatibility/subjects/:subject/versions', async (req) =>
    compatibility(req.params.subject, undefined, req.body, flag(req.query['verbose'])),
  );

  // Requests say {"compatibility": L}; responses of GET say {"compatibilityLevel": L} — Confluent's asymmetry.
  app.get('/config', async () => ({ compatibilityLevel: s.globalLevel, ...s.globalContract }));
  app.put('/config', async (req) => registry.setConfig(null, parseConfigRequest(req.body)));
  app.delete('/config', async () => ({ compatibilityLevel: await registry.deleteConfig(null) }));
  app.get<{ Params: Params; Querystring: Query }>('/config/:subject', async (req) => {
    const own = s.subjectConfig.get(req.params.subject);
    const contract = s.subjectContract.get(req.params.subject);
    const toGlobal = flag(req.query['defaultToGlobal']);
    if (!own && !contract && !toGlobal) throw compatibilityNotConfigured(req.params.subject);
    const level = own ?? (toGlobal ? s.globalLevel : undefined);
    return { ...(level ? { compatibilityLevel: level } : {}), ...(toGlobal ? s.globalContract : {}), ...contract };
  });
  app.put<{ Params: Params }>('/config/:subject', async (req) => registry.setConfig(req.params.subject, parseConfigRequest(req.body)));
  app.delete<{ Params: Params }>('/config/:subject', async (req) => ({ compatibilityLevel: await registry.deleteConfig(req.params.subject) }));

  app.get('/mode', async () => ({ mode: s.globalMode }));
  app.put<{ Querystring: Query }>('/mode', async (req) => ({ mode: await registry.setMode(null, parseModeRequest(req.body), flag(req.query['force'])) }));
  app.get<{ Params: Params; Querystring: Query }>('/mode/:subject', async (req) => {
    const own = s.subjectMode.get(req.params.subject);
    if (own) return { mode: own };
    if (flag(req.query['defaultToGlobal'])) return { mode: s.globalMode };
    throw modeNotConfigured(req.params.subject);
  });
  app.put<{ Params: Params; Querystring: Query }>('/mode/:subject', async (req) => ({ mode: await registry.setMode(req.params.subject, parseModeRequest(req.body), flag(req.query['force'])) }));
  app.delete<{ Params: Params }>('/mode/:subject', async (req) => ({ mode: await registry.deleteMode(req.params.subject) }));

  return app;
}
