import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, signDevToken } from '@preflight/auth';
import { devScopes, getConnector, schemaValidator } from '@preflight/connectors';
import type { ConnectorEvent } from '@preflight/events';
import { buildApi } from '../http.js';
import { Projection } from '../projection.js';

type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }> }>> };

const SECRET = 'openapi-unit';
const CONTRACT = 'apiVersion: v3.0.2\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\nschema:\n  - name: customers\n    properties:\n      - name: id\n        logicalType: integer\n';
// The MCP endpoint speaks JSON-RPC as the MCP specification defines it (its own plugin, documented there).
const NOT_REST = new Set(['/mcp', '/.well-known/oauth-protected-resource']);
// Writes that take no body at all.
const NO_BODY = new Set(['post /api/admin/rebuild']);

let app: FastifyInstance;
let doc: Doc;
let token: string;
const published: ConnectorEvent[] = [];
const projection = new Projection();

beforeAll(async () => {
  const filesRoot = mkdtempSync(join(tmpdir(), 'openapi-'));
  mkdirSync(join(filesRoot, 'acme', 'exports'), { recursive: true });
  app = await buildApi({
    projection: () => projection,
    auth: new Authenticator({ mode: 'hs256', secret: SECRET }),
    publish: async (...events) => void published.push(...events),
    ready: () => true,
    operationTimeoutMs: 60_000,
    scopes: () => devScopes({ filesRoot }),
  });
  token = await signDevToken({ roles: ['platform_admin'], tenant: 'acme', sub: 'ann' }, SECRET);
  doc = (await app.inject({ url: '/openapi.json' })).json<Doc>();
});
afterAll(async () => app?.close());

const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
};

/** The documented schema of a route's answer, checked against what the route really sent. */
function conforms(path: string, method: string, status: number, body: unknown): string[] {
  const schema = doc.paths[path]?.[method]?.responses?.[String(status)]?.content?.['application/json']?.schema;
  if (!schema) return [`${method} ${path} documents no ${status} JSON response`];
  return schemaValidator(schema)(structuredClone(body)).map((i) => `${i.field}: ${i.message}`);
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.0 document (checked by an OpenAPI schema validator)', async () => {
    const v = new Validator();
    const r = await v.validate(structuredClone(doc));
    expect(r.errors ?? []).toEqual([]);
    expect(r.valid).toBe(true);
    expect(doc.openapi).toBe('3.0.3');
  });

  it('describes every route: a body schema for each write, responses (success and errors) for each', () => {
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (NOT_REST.has(path)) continue;
      for (const [method, op] of Object.entries(ops)) {
        const responses = op.responses ?? {};
        if (!Object.keys(responses).some((s) => /^2\d\d$/.test(s) && responses[s]?.content)) missing.push(`${method} ${path}: no success response schema`);
        if (path.startsWith('/api/') && !['400', '401', '403'].every((s) => responses[s]?.content)) missing.push(`${method} ${path}: no error response schemas`);
        if (['post', 'put', 'patch'].includes(method) && !NO_BODY.has(`${method} ${path}`) && !op.requestBody?.content['application/json']?.schema) missing.push(`${method} ${path}: no request body schema`);
      }
    }
    expect(missing).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(19);
  });

  it("publishes each connector's config schema, from its one definition, as the registration body's config", () => {
    const body = doc.paths['/api/connectors']!['post']!.requestBody!.content['application/json']!.schema as { required: string[]; properties: { config: { oneOf: Array<Record<string, unknown>> } } };
    expect(body.required).toEqual(['name', 'sourceType', 'config', 'contract']);
    for (const type of ['postgres', 'mysql', 'rest', 'files']) {
      const { title, ...published } = body.properties.config.oneOf.find((s) => s['title'] === type)!;
      expect(title).toBe(type);
      expect(published).toEqual(JSON.parse(JSON.stringify(getConnector(type).manifest.contract.configSchema)));
    }
  });

  it('real answers match their documented schemas', async () => {
    const reg = await call('POST', '/api/connectors', { name: 'crm', sourceType: 'files', config: { path: 'exports' }, contract: CONTRACT, autoPreflight: false });
    expect(reg.status).toBe(201);
    expect(conforms('/api/connectors', 'post', 201, reg.body)).toEqual([]);
    // The registration carries the facts of the contract it parsed to validate (issue 11).
    expect(published.find((e) => e.eventType === 'connector.registered')).toMatchObject({ contractFacts: { id: 'c', version: '1.0.0', datasets: [{ name: 'customers', namespace: null }], piiFields: [], server: null } });
    for (const e of published) projection.apply(e);
    const list = await call('GET', '/api/connectors');
    expect(list.body['total']).toBe(1);
    expect(conforms('/api/connectors', 'get', 200, list.body)).toEqual([]);
    expect(conforms('/api/connectors/{id}', 'get', 200, (await call('GET', '/api/connectors/acme.crm')).body)).toEqual([]);
    const op = await call('POST', '/api/connectors/acme.crm/preflight', { reason: 'openapi test' });
    expect(op.status).toBe(202);
    expect(conforms('/api/connectors/{id}/preflight', 'post', 202, op.body)).toEqual([]);
    expect(conforms('/api/operations', 'get', 200, (await call('GET', '/api/operations')).body)).toEqual([]);
    expect(conforms('/api/connectors/validate', 'post', 200, (await call('POST', '/api/connectors/validate', { name: 'x' })).body)).toEqual([]);
    expect(conforms('/api/contracts/validate', 'post', 200, (await call('POST', '/api/contracts/validate', { contract: CONTRACT })).body)).toEqual([]);
    for (const path of ['/api/incidents', '/api/alerts', '/api/metrics', '/api/me', '/api/topics']) expect(conforms(path, 'get', 200, (await call('GET', path)).body)).toEqual([]);
    const missing = await call('GET', '/api/connectors/acme.nope');
    expect(missing.status).toBe(404);
    expect(conforms('/api/connectors/{id}', 'get', 404, missing.body)).toEqual([]);
  });

  it('every /api route checks the token before it reads the request: no token and a bad query or body is a 401', async () => {
    const wrong: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/') || NOT_REST.has(path)) continue;
      for (const method of Object.keys(ops)) {
        const url = `${path.replace(/\{[^}]+\}/g, 'x')}?not-a-parameter=1`;
        const res = await app.inject({ method: method.toUpperCase() as 'GET', url, ...(['post', 'put', 'patch'].includes(method) ? { payload: '[not json', headers: { 'content-type': 'application/json' } } : {}) });
        if (res.statusCode !== 401) wrong.push(`${method} ${path}: ${res.statusCode}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('bad input is a 400 naming each field and value, in the order of the body', async () => {
    const r = await call('POST', '/api/connectors', { name: 'no spaces', sourceType: 'postgres', config: { host: 'db', port: 'five' }, contract: CONTRACT, environment: 'moon', labels: { team: 7 } });
    expect(r.status).toBe(400);
    expect(r.body['issues']).toEqual([
      { field: 'name', message: 'must be letters, digits, . _ - (at most 63, starting with a letter or digit)', value: 'no spaces' },
      { field: 'config.port', message: 'must be a port number between 1 and 65535', value: 'five' },
      { field: 'config.database', message: 'is required' },
      { field: 'config.user', message: 'is required' },
      { field: 'config.secretRef', message: 'is required' },
      { field: 'environment', message: 'must be one of production, staging, development', value: 'moon' },
      { field: 'labels.team', message: 'must be a string', value: 7 },
    ]);
    expect(conforms('/api/connectors', 'post', 400, r.body)).toEqual([]);
    const timeout = await call('POST', '/api/connectors/acme.crm/preflight', { timeoutSeconds: 0 });
    expect(timeout).toMatchObject({ status: 400, body: { code: 'VALIDATION', issues: [{ field: 'timeoutSeconds' }] } });
  });
});
