import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildHttp, CONTENT_TYPE } from './http.js';
import { MemoryLog } from './memory-log.js';
import { Registry, type SchemaLog } from './registry.js';
import { RegistryState } from './store.js';

// The whole REST surface over an in-memory log: every Confluent behaviour that does not depend on
// Kafka is pinned here; registry.int.spec.ts repeats the essentials against a real broker.

interface Harness {
  state: RegistryState;
  log: MemoryLog;
  call(method: string, url: string, body?: unknown, options?: { raw?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; type: string }>;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

function harness(log?: SchemaLog): Harness {
  const state = new RegistryState();
  const memory = new MemoryLog((r) => state.apply(r));
  const app = buildHttp(new Registry(state, log ?? memory));
  apps.push(app);
  return {
    state,
    log: memory,
    call: async (method, url, body, options = {}) => {
      const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
      const res = await app.inject({ method: method as 'GET', url, headers: { 'content-type': CONTENT_TYPE, ...options.headers }, ...(payload !== undefined ? { payload } : {}) });
      let parsed: unknown = res.body;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        /* not JSON */
      }
      return { status: res.statusCode, body: parsed, type: String(res.headers['content-type'] ?? '') };
    },
  };
}

const user = { type: 'record', name: 'User', namespace: 't', fields: [{ name: 'id', type: 'string' }] };
const userV2 = { ...user, fields: [...user.fields, { name: 'age', type: 'int', default: 0 }] };
const userBad = { ...user, fields: [...user.fields, { name: 'email', type: 'string' }] }; // no default: not BACKWARD
const avro = (schema: unknown): { schema: string } => ({ schema: JSON.stringify(schema) });

describe('registering and reading schemas', () => {
  it('answers exactly {"id":N}, in the registry media type, and serves the schema back', async () => {
    const h = harness();
    const r = await h.call('POST', '/subjects/users-value/versions', avro(user));
    expect(r).toMatchObject({ status: 200, body: { id: 1 } });
    expect(Object.keys(r.body)).toEqual(['id']);
    expect(r.type).toBe(CONTENT_TYPE);
    expect((await h.call('GET', '/subjects/users-value/versions/1')).body).toEqual({ subject: 'users-value', version: 1, id: 1, schema: JSON.stringify(user) });
    expect((await h.call('GET', '/subjects/users-value/versions/latest/schema')).body).toEqual(user);
    expect((await h.call('GET', '/schemas/ids/1')).body).toEqual({ schema: JSON.stringify(user) });
    expect((await h.call('GET', '/schemas/ids/1/schema')).body).toEqual(user);
    expect((await h.call('GET', '/subjects')).body).toEqual(['users-value']);
  });

  it('gives one schema one global id: re-registering, reformatted or in another subject, adds no version', async () => {
    const h = harness();
    const a = await h.call('POST', '/subjects/a/versions', avro(user));
    const again = await h.call('POST', '/subjects/a/versions', { schema: JSON.stringify(user, null, 2) });
    const renamedNs = await h.call('POST', '/subjects/a/versions', avro({ type: 'record', name: 't.User', fields: user.fields }));
    const other = await h.call('POST', '/subjects/b/versions', avro(user));
    expect([again.body, renamedNs.body, other.body]).toEqual([a.body, a.body, a.body]);
    expect((await h.call('GET', '/subjects/a/versions')).body).toEqual([1]);
    expect((await h.call('GET', '/schemas/ids/1/versions')).body).toEqual([
      { subject: 'a', version: 1 },
      { subject: 'b', version: 1 },
    ]);
    expect((await h.call('GET', '/schemas/ids/1/subjects')).body).toEqual(['a', 'b']);
    expect(h.log.records).toHaveLength(2);
  });

  it('hands out increasing ids and versions, and reads latest and -1 alike', async () => {
    const h = harness();
    await h.call('POST', '/subjects/u/versions', avro(user));
    expect((await h.call('POST', '/subjects/u/versions', avro(userV2))).body).toEqual({ id: 2 });
    expect((await h.call('GET', '/subjects/u/versions')).body).toEqual([1, 2]);
    expect((await h.call('GET', '/subjects/u/versions/latest')).body.id).toBe(2);
    expect((await h.call('GET', '/subjects/u/versions/-1')).body.version).toBe(2);
    expect((await h.call('GET', '/schemas?latestOnly=true')).body).toEqual([{ subject: 'u', version: 2, id: 2, schema: JSON.stringify(userV2) }]);
  });

  it('looks a schema up under a subject', async () => {
    const h = harness();
    await h.call('POST', '/subjects/u/versions', avro(user));
    expect((await h.call('POST', '/subjects/u', { schema: JSON.stringify(user, null, 1) })).body).toEqual({ subject: 'u', version: 1, id: 1, schema: JSON.stringify(user) });
    await h.call('DELETE', '/subjects/u/versions/1');
    expect((await h.call('POST', '/subjects/u', avro(user))).body.error_code).toBe(40401);
    expect((await h.call('POST', '/subjects/u?deleted=true', avro(user))).body.version).toBe(1);
  });

  it('accepts application/json, octet-stream and the unversioned registry type', async () => {
    const h = harness();
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/octet-stream', 'application/vnd.schemaregistry+json']) {
      const r = await h.call('POST', '/subjects/u/versions', avro(user), { headers: { 'content-type': type } });
      expect(r.body).toEqual({ id: 1 });
    }
  });

  it('serves subject names with colons, slashes, spaces, percent signs and unicode', async () => {
    const h = harness();
    const names = ['with space', 'a:b', 'a/b', '100%', 'ü-value', ':.ctx:s', 'dot.ted'];
    for (const subject of names) {
      const enc = encodeURIComponent(subject);
      expect((await h.call('POST', `/subjects/${enc}/versions`, avro(user))).status).toBe(200);
      expect((await h.call('GET', `/subjects/${enc}/versions/latest`)).body.subject).toBe(subject);
    }
    expect((await h.call('GET', '/subjects')).body).toEqual([...names].sort());
    expect((await h.call('GET', '/subjects?subjectPrefix=a')).body).toEqual(['a/b', 'a:b']);
  });
});

describe('soft and permanent deletes', () => {
  it('keeps counting versions after a soft delete; a permanent delete needs a soft one first', async () => {
    const h = harness();
    await h.call('PUT', '/config/k', { compatibility: 'NONE' });
    await h.call('POST', '/subjects/k/versions', avro(user));
    await h.call('POST', '/subjects/k/versions', avro(userV2));
    expect((await h.call('DELETE', '/subjects/k/versions/2')).body).toBe(2);
    expect((await h.call('GET', '/subjects/k/versions/2')).body.error_code).toBe(40402);
    expect((await h.call('GET', '/subjects/k/versions/2?deleted=true')).body.id).toBe(2);
    expect((await h.call('POST', '/subjects/k/versions', avro(userBad))).body).toEqual({ id: 3 });
    expect((await h.call('GET', '/subjects/k/versions')).body).toEqual([1, 3]);
    expect((await h.call('GET', '/subjects/k/versions?deleted=true')).body).toEqual([1, 2, 3]);
    expect((await h.call('DELETE', '/subjects/k/versions/2?permanent=true')).body).toBe(2);
    expect((await h.call('GET', '/subjects/k/versions?deleted=true')).body).toEqual([1, 3]);
    // The id outlives the version: data encoded with it still decodes.
    expect((await h.call('GET', '/schemas/ids/2')).status).toBe(200);
  });

  it('re-registering a soft-deleted schema makes a new version with the same id', async () => {
    const h = harness();
    await h.call('POST', '/subjects/s/versions', avro(user));
    await h.call('DELETE', '/subjects/s');
    expect((await h.call('POST', '/subjects/s/versions', avro(user))).body).toEqual({ id: 1 });
    expect((await h.call('GET', '/subjects/s/versions?deleted=true')).body).toEqual([1, 2]);
  });

  it('soft-deletes a subject, hides it, then deletes it permanently', async () => {
    const h = harness();
    await h.call('POST', '/subjects/s/versions', avro(user));
    await h.call('POST', '/subjects/s/versions', avro(userV2));
    expect((await h.call('DELETE', '/subjects/s')).body).toEqual([1, 2]);
    expect((await h.call('GET', '/subjects')).body).toEqual([]);
    expect((await h.call('GET', '/subjects?deleted=true')).body).toEqual(['s']);
    expect((await h.call('GET', '/subjects/s/versions/latest')).body.error_code).toBe(40401);
    expect((await h.call('GET', '/subjects/s/versions/latest?deleted=true')).body.version).toBe(2);
    expect((await h.call('DELETE', '/subjects/s?permanent=true')).body).toEqual([1, 2]);
    expect((await h.call('GET', '/subjects?deleted=true')).body).toEqual([]);
    expect((await h.call('DELETE', '/subjects/s')).body.error_code).toBe(40401);
  });
});

describe('error codes: every one is a JSON body with the right HTTP status, never a 500', () => {
  it('answers 404s, 409 and 422s with Confluent codes', async () => {
    const h = harness();
    await h.call('POST', '/subjects/s/versions', avro(user));
    await h.call('POST', '/subjects/gone/versions', avro(user));
    await h.call('DELETE', '/subjects/gone');
    await h.call('POST', '/subjects/live/versions', avro(user));
    await h.call('POST', '/subjects/soft/versions', avro(user));
    await h.call('DELETE', '/subjects/soft/versions/1');
    await h.call('POST', '/subjects/soft/versions', avro(userV2));
    const cases: Array<[string, string, unknown, number, number]> = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/nope/versions/1', undefined, 404, 40401],
      ['POST', '/subjects/nope', avro(user), 404, 40401],
      ['DELETE', '/subjects/nope', undefined, 404, 40401],
      ['GET', '/subjects/s/versions/9', undefined, 404, 40402],
      ['DELETE', '/subjects/s/versions/9', undefined, 404, 40402],
      ['GET', '/schemas/ids/9999', undefined, 404, 40403],
      ['GET', '/schemas/ids/abc', undefined, 404, 40403],
      ['POST', '/subjects/s', avro(userV2), 404, 40403],
      ['DELETE', '/subjects/gone', undefined, 404, 40404],
      ['DELETE', '/subjects/live?permanent=true', undefined, 404, 40405],
      ['DELETE', '/subjects/soft/versions/1', undefined, 404, 40406],
      ['DELETE', '/subjects/soft/versions/2?permanent=true', undefined, 404, 40407],
      ['GET', '/config/s', undefined, 404, 40408],
      ['GET', '/mode/s', undefined, 404, 40409],
      ['POST', '/subjects/s/versions', avro(userBad), 409, 409],
      ['POST', '/subjects/s/versions', { schema: '{"type":"record"' }, 422, 42201],
      ['POST', '/subjects/s/versions', avro({ type: 'record', name: 'R' }), 422, 42201],
      ['POST', '/subjects/s/versions', avro({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int', default: 'x' }] }), 422, 42201],
      ['POST', '/subjects/s/versions', { schema: 'string' }, 422, 42201],
      ['POST', '/subjects/s/versions', {}, 422, 42201],
      ['POST', '/subjects/s/versions', { schema: 'syntax = "proto3"; message {', schemaType: 'PROTOBUF' }, 422, 42201],
      ['POST', '/subjects/s/versions', { schema: '"int"', references: [{ name: 'x', subject: 'nope', version: 1 }] }, 422, 42201],
      ['GET', '/subjects/s/versions/abc', undefined, 422, 42202],
      ['GET', '/subjects/s/versions/0', undefined, 422, 42202],
      ['GET', '/subjects/s/versions/2147483648', undefined, 422, 42202],
      ['DELETE', '/subjects/s/versions/1.5', undefined, 422, 42202],
      ['PUT', '/config', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['PUT', '/config/s', {}, 422, 42203],
      ['PUT', '/mode', { mode: 'WRITEONLY' }, 422, 42204],
      ['PUT', '/mode', { mode: 'IMPORT' }, 422, 42205],
      ['POST', '/subjects/s/versions', { ...avro(userV2), id: 50 }, 422, 42205],
      ['POST', `/subjects/${encodeURIComponent('__GLOBAL')}/versions`, avro(user), 422, 42208],
      ['POST', `/subjects/${encodeURIComponent('a\tb')}/versions`, avro(user), 422, 42208],
    ];
    for (const [method, url, body, status, errorCode] of cases) {
      const r = await h.call(method, url, body);
      expect({ method, url, status: r.status, code: r.body?.error_code }).toEqual({ method, url, status, code: errorCode });
      expect(typeof r.body.message).toBe('string');
    }
  });

  it('rejects malformed JSON (400), oversized bodies (413), unknown media types (415) and routes (404)', async () => {
    const h = harness();
    expect(await h.call('POST', '/subjects/s/versions', undefined, { raw: '{not json' })).toMatchObject({ status: 400, body: { error_code: 400 } });
    expect(await h.call('POST', '/subjects/s/versions', undefined, { raw: JSON.stringify({ schema: 'x'.repeat(1024 * 1024) }) })).toMatchObject({ status: 413, body: { error_code: 413 } });
    expect(await h.call('POST', '/subjects/s/versions', undefined, { raw: 'schema=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).toMatchObject({
      status: 415,
      body: { error_code: 415 },
    });
    expect(await h.call('GET', '/nothing/here')).toMatchObject({ status: 404, body: { error_code: 404 } });
    expect(await h.call('GET', '/subjects/%E0%A4%A/versions')).toMatchObject({ status: 400, body: { error_code: 400 } });
    expect((await h.call('GET', `/subjects/${'x'.repeat(3000)}/versions`)).body.error_code).toBe(40401);
  });

  it('reports a failing store as 50001', async () => {
    const h = harness({
      exclusive: () => Promise.reject(new Error('broker unreachable')),
    });
    const r = await h.call('POST', '/subjects/s/versions', avro(user));
    expect(r).toMatchObject({ status: 500, body: { error_code: 50001, message: expect.stringMatching(/broker unreachable/) } });
  });

  it('says why a schema is incompatible', async () => {
    const h = harness();
    await h.call('POST', '/subjects/s/versions', avro(user));
    const r = await h.call('POST', '/subjects/s/versions', avro(userBad));
    expect(r.body.message).toMatch(/incompatible with an earlier schema for subject "s"/);
    expect(r.body.message).toMatch(/READER_FIELD_MISSING_DEFAULT_VALUE.*'email'/);
  });
});

describe('compatibility levels', () => {
  it('defaults to BACKWARD; a subject has no level of its own unless set', async () => {
    const h = harness();
    expect((await h.call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await h.call('GET', '/config/x')).status).toBe(404);
    expect((await h.call('GET', '/config/x?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('stores all seven levels at global and subject level, in any case', async () => {
    const h = harness();
    for (const level of ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']) {
      expect((await h.call('PUT', '/config', { compatibility: level.toLowerCase() })).body).toEqual({ compatibility: level });
      expect((await h.call('GET', '/config')).body).toEqual({ compatibilityLevel: level });
      expect((await h.call('PUT', '/config/x', { compatibility: level })).body).toEqual({ compatibility: level });
      expect((await h.call('GET', '/config/x')).body).toEqual({ compatibilityLevel: level });
    }
  });

  it('deleting a level answers the one it removed and falls back to the global one', async () => {
    const h = harness();
    await h.call('PUT', '/config', { compatibility: 'FULL' });
    await h.call('PUT', '/config/x', { compatibility: 'NONE' });
    expect((await h.call('DELETE', '/config/x')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await h.call('GET', '/config/x?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await h.call('DELETE', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await h.call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await h.call('DELETE', '/config/never')).body.error_code).toBe(40401);
  });

  it('applies the subject level over the global one when registering', async () => {
    const h = harness();
    await h.call('POST', '/subjects/s/versions', avro(user));
    await h.call('PUT', '/config/s', { compatibility: 'NONE' });
    expect((await h.call('POST', '/subjects/s/versions', avro(userBad))).status).toBe(200);
    await h.call('PUT', '/config/s', { compatibility: 'FORWARD' });
    // userBad has a field user lacks, and user (as an old reader) just skips it: forward compatible.
    expect((await h.call('POST', '/subjects/s/versions', avro({ ...userBad, fields: [...userBad.fields, { name: 'x', type: 'int' }] }))).status).toBe(200);
    await h.call('PUT', '/config/s', { compatibility: 'BACKWARD_TRANSITIVE' });
    expect((await h.call('POST', '/subjects/s/versions', avro({ ...userBad, doc: 'needs email, which version 1 lacks' }))).status).toBe(409);
  });

  it('tests compatibility without registering', async () => {
    const h = harness();
    expect((await h.call('POST', '/compatibility/subjects/new/versions/latest', avro(user))).body).toEqual({ is_compatible: true });
    expect((await h.call('POST', '/compatibility/subjects/new/versions/1', avro(user))).body.error_code).toBe(40401);
    await h.call('POST', '/subjects/y/versions', avro(user));
    expect((await h.call('POST', '/compatibility/subjects/y/versions/latest', avro(userV2))).body).toEqual({ is_compatible: true });
    expect((await h.call('POST', '/compatibility/subjects/y/versions/2', avro(userV2))).body.error_code).toBe(40402);
    const verbose = await h.call('POST', '/compatibility/subjects/y/versions/1?verbose=true', avro(userBad));
    expect(verbose.body).toMatchObject({ is_compatible: false, messages: expect.arrayContaining([expect.stringMatching(/email/)]) });
    expect((await h.call('POST', '/compatibility/subjects/y/versions', avro(userBad))).body).toEqual({ is_compatible: false });
    expect((await h.call('POST', '/compatibility/subjects/y/versions/latest', { schema: '{' })).body.error_code).toBe(42201);
    expect((await h.call('GET', '/subjects/y/versions')).body).toEqual([1]);
  });
});

describe('JSON Schema and references', () => {
  const js = { type: 'object', properties: { a: { type: 'string' } } };

  it('registers, looks up and serves JSON Schema with schemaType', async () => {
    const h = harness();
    const r = await h.call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: JSON.stringify(js) });
    expect(r.body).toEqual({ id: 1 });
    expect((await h.call('GET', '/schemas/ids/1')).body).toEqual({ schemaType: 'JSON', schema: JSON.stringify(js) });
    expect((await h.call('GET', '/subjects/j/versions/1')).body).toMatchObject({ schemaType: 'JSON', id: 1 });
    const reordered = JSON.stringify({ properties: { a: { type: 'string' } }, type: 'object' });
    expect((await h.call('POST', '/subjects/j', { schemaType: 'JSON', schema: reordered })).body).toMatchObject({ version: 1, schemaType: 'JSON' });
    expect((await h.call('POST', '/subjects/j/versions', { schemaType: 'JSON', schema: reordered })).body).toEqual({ id: 1 });
    // The same text as AVRO is a different schema; JSON Schema must be an object or a boolean.
    expect((await h.call('POST', '/subjects/j', { schema: JSON.stringify(js) })).body.error_code).toBe(42201);
    expect((await h.call('POST', '/subjects/k/versions', { schemaType: 'JSON', schema: '[1]' })).body.error_code).toBe(42201);
    expect((await h.call('POST', '/subjects/k/versions', { schemaType: 'JSON', schema: 'true' })).body).toEqual({ id: 2 });
    // Changing the type inside a subject is incompatible unless the level is NONE.
    expect((await h.call('POST', '/subjects/j/versions', avro(user))).status).toBe(409);
  });

  it('stores references, resolves referenced Avro types, and protects referenced versions', async () => {
    const h = harness();
    await h.call('POST', '/subjects/user/versions', avro(user));
    const outer = { type: 'record', name: 'Outer', namespace: 't', fields: [{ name: 'u', type: 'User' }] };
    const references = [{ name: 't.User', subject: 'user', version: 1 }];
    expect((await h.call('POST', '/subjects/outer/versions', avro(outer))).body.error_code).toBe(42201);
    const r = await h.call('POST', '/subjects/outer/versions', { ...avro(outer), references });
    expect(r.body).toEqual({ id: 2 });
    expect((await h.call('GET', '/subjects/outer/versions/1')).body.references).toEqual(references);
    expect((await h.call('GET', '/schemas/ids/2')).body.references).toEqual(references);
    expect((await h.call('POST', '/subjects/outer', { ...avro(outer), references })).body.version).toBe(1);
    expect((await h.call('GET', '/subjects/user/versions/1/referencedby')).body).toEqual([2]);
    expect((await h.call('DELETE', '/subjects/user/versions/1')).body.error_code).toBe(42206);
    expect((await h.call('DELETE', '/subjects/user')).body.error_code).toBe(42206);
    // A compatible evolution of the referencing schema is checked with the references resolved.
    const outer2 = { ...outer, fields: [...outer.fields, { name: 'n', type: ['null', 'User'], default: null }] };
    expect((await h.call('POST', '/subjects/outer/versions', { ...avro(outer2), references })).body).toEqual({ id: 3 });
    await h.call('DELETE', '/subjects/outer');
    expect((await h.call('DELETE', '/subjects/user/versions/1')).body).toBe(1);
  });
});

describe('modes', () => {
  it('serves READWRITE by default and enforces READONLY at global and subject level', async () => {
    const h = harness();
    expect((await h.call('GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    await h.call('POST', '/subjects/s/versions', avro(user));
    expect((await h.call('PUT', '/mode/s', { mode: 'READONLY' })).body).toEqual({ mode: 'READONLY' });
    expect((await h.call('GET', '/mode/s')).body).toEqual({ mode: 'READONLY' });
    expect((await h.call('POST', '/subjects/s/versions', avro(userV2))).body.error_code).toBe(42205);
    expect((await h.call('DELETE', '/subjects/s')).body.error_code).toBe(42205);
    expect((await h.call('POST', '/subjects/t/versions', avro(user))).status).toBe(200);
    expect((await h.call('DELETE', '/mode/s')).body).toEqual({ mode: 'READONLY' });
    expect((await h.call('PUT', '/mode', { mode: 'READONLY' })).status).toBe(200);
    expect((await h.call('POST', '/subjects/t/versions', avro(userV2))).body.error_code).toBe(42205);
    expect((await h.call('GET', '/mode/t?defaultToGlobal=true')).body).toEqual({ mode: 'READONLY' });
  });

  it('IMPORT keeps the ids and versions of another registry', async () => {
    const h = harness();
    expect((await h.call('PUT', '/mode', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
    expect((await h.call('POST', '/subjects/s/versions', { ...avro(user), id: 42, version: 7 })).body).toEqual({ id: 42 });
    expect((await h.call('GET', '/subjects/s/versions/7')).body).toMatchObject({ id: 42, version: 7 });
    expect((await h.call('POST', '/subjects/s/versions', { ...avro(userV2), id: 42 })).body.error_code).toBe(42207);
    await h.call('PUT', '/mode', { mode: 'READWRITE' });
    expect((await h.call('POST', '/subjects/t/versions', avro(userV2))).body).toEqual({ id: 43 });
    expect((await h.call('PUT', '/mode', { mode: 'IMPORT' })).body.error_code).toBe(42205);
    expect((await h.call('PUT', '/mode?force=true', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
  });
});

describe('storage', () => {
  it('writes Confluent record shapes', async () => {
    const h = harness();
    await h.call('POST', '/subjects/s/versions', avro(user));
    await h.call('PUT', '/config/s', { compatibility: 'FULL' });
    await h.call('DELETE', '/subjects/s');
    await h.call('DELETE', '/subjects/s?permanent=true');
    expect(h.log.records.map((r) => [JSON.stringify(r.key), r.value === null ? null : JSON.stringify(r.value)])).toEqual([
      ['{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', JSON.stringify({ subject: 's', version: 1, id: 1, schema: JSON.stringify(user), deleted: false })],
      ['{"keytype":"CONFIG","subject":"s","magic":0}', '{"compatibilityLevel":"FULL"}'],
      ['{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}', '{"subject":"s","version":1}'],
      ['{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', null],
    ]);
  });

  it('a compacted log folds to the state the full history built', async () => {
    const h = harness();
    await h.call('PUT', '/config', { compatibility: 'NONE' });
    const schemas = [user, userV2, userBad, { ...user, doc: 'x' }];
    for (const [i, s] of schemas.entries()) {
      await h.call('POST', '/subjects/a/versions', avro(s));
      await h.call('POST', `/subjects/b${i % 2}/versions`, avro(s));
    }
    await h.call('DELETE', '/subjects/a/versions/2');
    await h.call('DELETE', '/subjects/a/versions/2?permanent=true');
    await h.call('DELETE', '/subjects/b1');
    await h.call('PUT', '/config/a', { compatibility: 'FULL' });
    await h.call('PUT', '/config/a', { compatibility: 'FORWARD' });
    await h.call('PUT', '/mode/b0', { mode: 'READONLY' });
    await h.call('PUT', '/config/c', { defaultMetadata: { properties: { owner: 'x' } } });
    await h.call('POST', '/subjects/c/versions', { ...avro(user), metadata: { tags: { id: ['PII'] } } });
    await h.call('POST', '/subjects/c/versions', proto('syntax = "proto3"; message P { int32 a = 1; }'));
    const snapshot = (s: RegistryState): unknown => ({
      subjects: s.subjects(true).map((sub) => ({ sub, versions: s.list(sub, true), level: s.subjectConfig.get(sub), mode: s.subjectMode.get(sub), contract: s.subjectContract.get(sub) })),
      global: [s.globalLevel, s.globalMode, s.globalContract],
      maxId: s.maxId,
    });
    const replayed = new RegistryState();
    for (const r of h.log.compacted()) replayed.apply(r);
    expect(h.log.compacted().length).toBeLessThan(h.log.records.length);
    expect(snapshot(replayed)).toEqual(snapshot(h.state));
  });
});

const proto = (schema: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ schemaType: 'PROTOBUF', schema, ...extra });
const orderV1 = `syntax = "proto3";
package acme;
import "google/protobuf/timestamp.proto";
message Order {
  string id = 1;
  int32 qty = 2;
  google.protobuf.Timestamp placed_at = 3;
}
`;

describe('PROTOBUF', () => {
  it('is among the schema types and registers, serves, looks up and reformats to one id', async () => {
    const h = harness();
    expect((await h.call('GET', '/schemas/types')).body).toEqual(['JSON', 'PROTOBUF', 'AVRO']);
    expect((await h.call('POST', '/subjects/orders-value/versions', proto(orderV1))).body).toEqual({ id: 1 });
    expect((await h.call('GET', '/subjects/orders-value/versions/1')).body).toEqual({ subject: 'orders-value', version: 1, id: 1, schemaType: 'PROTOBUF', schema: orderV1 });
    expect((await h.call('GET', '/schemas/ids/1')).body).toEqual({ schemaType: 'PROTOBUF', schema: orderV1 });
    expect((await h.call('GET', '/schemas/ids/1/schema')).body).toBe(orderV1);
    const reformatted = `// a comment\n${orderV1.replace(/\n\s*/g, ' ')}`;
    expect((await h.call('POST', '/subjects/orders-value/versions', proto(reformatted))).body).toEqual({ id: 1 });
    expect((await h.call('POST', '/subjects/orders-value', proto(reformatted))).body).toMatchObject({ version: 1, id: 1 });
    expect((await h.call('GET', '/subjects/orders-value/versions')).body).toEqual([1]);
    const bad = await h.call('POST', '/subjects/orders-value/versions', proto('syntax = "proto3"; message A { Missing m = 1; }'));
    expect(bad).toMatchObject({ status: 422, body: { error_code: 42201, message: "Invalid schema: no such Type or Enum 'Missing' in Type .A" } });
  });

  it('resolves imports through references, lists and protects the referenced version', async () => {
    const h = harness();
    const money = 'syntax = "proto3"; package common; message Money { string currency = 1; int64 units = 2; }';
    await h.call('POST', '/subjects/money/versions', proto(money));
    const withRef = 'syntax = "proto3"; import "common/money.proto"; message Price { common.Money amount = 1; }';
    const missing = await h.call('POST', '/subjects/price-value/versions', proto(withRef));
    expect(missing.body.message).toContain('imports "common/money.proto", which is neither among the schema\'s references nor a well-known type');
    const references = [{ name: 'common/money.proto', subject: 'money', version: 1 }];
    expect((await h.call('POST', '/subjects/price-value/versions', proto(withRef, { references }))).body).toEqual({ id: 2 });
    expect((await h.call('GET', '/subjects/price-value/versions/1')).body.references).toEqual(references);
    expect((await h.call('GET', '/subjects/money/versions/1/referencedby')).body).toEqual([2]);
    expect((await h.call('DELETE', '/subjects/money/versions/1')).body.error_code).toBe(42206);
  });

  it('normalize=true gives a reordered schema the id of its normalized twin and stores the normalized text', async () => {
    const h = harness();
    await h.call('PUT', '/config', { compatibility: 'NONE' });
    const a = 'syntax = "proto3"; package p; message M { int32 a = 1; string b = 2; }';
    const b = 'syntax = "proto3"; package p; message M { string b = 2; int32 a = 1; }';
    expect((await h.call('POST', '/subjects/n/versions?normalize=true', proto(a))).body).toEqual({ id: 1 });
    expect((await h.call('GET', '/schemas/ids/1/schema')).body).toBe('syntax = "proto3";\npackage p;\nmessage M {\n  int32 a = 1;\n  string b = 2;\n}\n');
    expect((await h.call('POST', '/subjects/n/versions?normalize=true', proto(b))).body).toEqual({ id: 1 });
    expect((await h.call('POST', '/subjects/n?normalize=true', proto(b))).body).toMatchObject({ version: 1, id: 1 });
    expect((await h.call('POST', '/subjects/n', proto(b))).body.error_code).toBe(40403);
    expect((await h.call('POST', '/subjects/n/versions', proto(b))).body).toEqual({ id: 2 });
  });

  it('refuses an incompatible version with Confluent-shaped reasons, and checks all seven levels', async () => {
    const h = harness();
    await h.call('POST', '/subjects/o/versions', proto(orderV1));
    const changed = orderV1.replace('int32 qty = 2;', 'string qty = 2;');
    const r = await h.call('POST', '/subjects/o/versions', proto(changed));
    expect(r.status).toBe(409);
    expect(r.body.message).toBe(
      `Schema being registered is incompatible with an earlier schema for subject "o", details: [{errorType:"FIELD_SCALAR_KIND_CHANGED", description:"The kind of a SCALAR field at path '#/Order/2' in the new schema does not match its kind in the old schema"}, {oldSchemaVersion: 1}, {compatibility: 'BACKWARD'}]`,
    );
    // Adding a message is BACKWARD compatible; FORWARD sees the old schema lacking it
    // (MESSAGE_REMOVED), which Confluent counts as incompatible.
    const added = `${orderV1}message Extra { int32 x = 1; }\n`;
    const cases: Array<[string, string, boolean]> = [
      ['NONE', changed, true],
      ['BACKWARD', added, true],
      ['FORWARD', added, false],
      ['FULL', added, false],
      ['BACKWARD_TRANSITIVE', changed, false],
      ['FORWARD_TRANSITIVE', orderV1.replace('int32 qty = 2;', 'int64 qty = 2;'), true],
      ['FULL_TRANSITIVE', orderV1.replace('int32 qty = 2;', ''), true],
    ];
    for (const [level, next, ok] of cases) {
      await h.call('PUT', '/config/o', { compatibility: level });
      const c = await h.call('POST', '/compatibility/subjects/o/versions/latest?verbose=true', proto(next));
      expect({ level, ok: c.body.is_compatible }).toEqual({ level, ok });
      if (!ok) expect(c.body.messages.at(-1)).toBe(`{compatibility: '${level}'}`);
    }
    const mixed = await h.call('POST', '/compatibility/subjects/o/versions/latest?verbose=true', avro(user));
    expect(mixed.body.is_compatible).toBe(false);
    expect(mixed.body.messages[0]).toContain('SCHEMA_TYPE_MISMATCH');
  });
});

const piiMetadata = { tags: { 'Order.email': ['PII'] }, properties: { owner: 'team-orders', classification: 'confidential' }, sensitive: ['secret'] };
const ruleSet = {
  domainRules: [{ name: 'checkEmail', kind: 'CONDITION', mode: 'WRITE', type: 'CEL_FIELD', expr: "name == 'email' ; value.contains('@')", onFailure: 'DLQ' }],
  migrationRules: [{ name: 'upgrade', kind: 'TRANSFORM', mode: 'UPGRADE', type: 'JSONATA', expr: '$' }],
};

describe('data-contract metadata and rule sets', () => {
  it('stores them with the version and returns them on every read, in Confluent shapes', async () => {
    const h = harness();
    expect((await h.call('POST', '/subjects/c/versions', { ...avro(user), metadata: piiMetadata, ruleSet })).body).toEqual({ id: 1 });
    const expectedMetadata = { tags: { 'Order.email': ['PII'] }, properties: { classification: 'confidential', owner: 'team-orders' }, sensitive: ['secret'] };
    const expectedRuleSet = {
      migrationRules: [{ name: 'upgrade', kind: 'TRANSFORM', mode: 'UPGRADE', type: 'JSONATA', expr: '$' }],
      domainRules: [{ name: 'checkEmail', kind: 'CONDITION', mode: 'WRITE', type: 'CEL_FIELD', expr: "name == 'email' ; value.contains('@')", onFailure: 'DLQ' }],
    };
    const version = { subject: 'c', version: 1, id: 1, metadata: expectedMetadata, ruleSet: expectedRuleSet, schema: JSON.stringify(user) };
    expect((await h.call('GET', '/subjects/c/versions/1')).body).toEqual(version);
    expect((await h.call('GET', '/subjects/c/versions/latest')).body).toEqual(version);
    expect((await h.call('GET', '/schemas?subjectPrefix=c')).body).toEqual([version]);
    expect((await h.call('GET', '/schemas/ids/1')).body).toEqual({ metadata: expectedMetadata, ruleSet: expectedRuleSet, schema: JSON.stringify(user) });
    expect((await h.call('POST', '/subjects/c', avro(user))).body).toEqual(version);
    expect(h.log.records[0]!.value).toEqual({ ...version, deleted: false });
  });

  it('inherits the previous version contract when omitted; other metadata makes a new version and id', async () => {
    const h = harness();
    await h.call('POST', '/subjects/c/versions', { ...avro(user), metadata: piiMetadata });
    expect((await h.call('POST', '/subjects/c/versions', avro(user))).body).toEqual({ id: 1 });
    expect((await h.call('POST', '/subjects/c/versions', avro(userV2))).body).toEqual({ id: 2 });
    expect((await h.call('GET', '/subjects/c/versions/2')).body.metadata.properties.owner).toBe('team-orders');
    const other = { properties: { owner: 'team-billing' } };
    expect((await h.call('POST', '/subjects/c/versions', { ...avro(userV2), metadata: other })).body).toEqual({ id: 3 });
    expect((await h.call('GET', '/subjects/c/versions')).body).toEqual([1, 2, 3]);
    expect((await h.call('GET', '/subjects/c/versions/3')).body.metadata).toEqual(other);
    // The same schema and contract in another subject is the same id.
    expect((await h.call('POST', '/subjects/d/versions', { ...avro(userV2), metadata: other })).body).toEqual({ id: 3 });
    expect((await h.call('POST', '/subjects/c', { ...avro(userV2), metadata: piiMetadata })).body.version).toBe(2);
    // A lookup without a contract is made with the one a registration would inherit (Confluent's
    // second lookup): the latest version's, so an older version under another contract is not found.
    expect((await h.call('POST', '/subjects/c', avro(userV2))).body.version).toBe(3);
    expect((await h.call('POST', '/subjects/c', avro(user))).body.error_code).toBe(40403);
    expect((await h.call('POST', '/subjects/c', { ...avro(user), metadata: piiMetadata })).body.version).toBe(1);
  });

  it('applies config defaults and overrides, keeps the level, and serves them from GET /config', async () => {
    const h = harness();
    const put = await h.call('PUT', '/config/c', { defaultMetadata: { properties: { owner: 'platform', tier: 'bronze' } }, overrideMetadata: { properties: { tier: 'gold' } }, overrideRuleSet: ruleSet });
    expect(put.body).toEqual({ defaultMetadata: { properties: { owner: 'platform', tier: 'bronze' } }, overrideMetadata: { properties: { tier: 'gold' } }, overrideRuleSet: expect.any(Object) });
    await h.call('PUT', '/config/c', { compatibility: 'FULL' });
    const config = (await h.call('GET', '/config/c')).body;
    expect(config).toMatchObject({ compatibilityLevel: 'FULL', defaultMetadata: { properties: { owner: 'platform', tier: 'bronze' } }, overrideMetadata: { properties: { tier: 'gold' } } });
    await h.call('POST', '/subjects/c/versions', { ...avro(user), metadata: { properties: { owner: 'me' } } });
    const v = (await h.call('GET', '/subjects/c/versions/1')).body;
    expect(v.metadata).toEqual({ properties: { owner: 'me', tier: 'gold' } });
    expect(v.ruleSet.domainRules[0].name).toBe('checkEmail');
    await h.call('PUT', '/config/c', { overrideRuleSet: null });
    expect((await h.call('GET', '/config/c')).body.overrideRuleSet).toBeUndefined();
    expect((await h.call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await h.call('PUT', '/config', { defaultRuleSet: { encodingRules: [{ name: 'enc', type: 'ENCRYPT', mode: 'WRITEREAD' }] } })).status).toBe(200);
    expect((await h.call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD', defaultRuleSet: { encodingRules: [{ name: 'enc', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT' }] } });
  });

  it('refuses a bad rule set with 42210 and bad metadata with 42201, naming the field', async () => {
    const h = harness();
    const r = await h.call('POST', '/subjects/c/versions', { ...avro(user), ruleSet: { domainRules: [{ name: 'r', type: 'CEL', mode: 'UPGRADE' }] } });
    expect(r).toMatchObject({ status: 422, body: { error_code: 42210, message: "Invalid rule set: Domain rules can only be WRITE, READ, WRITEREAD (rule 'r')" } });
    const m = await h.call('POST', '/subjects/c/versions', { ...avro(user), metadata: { tags: ['PII'] } });
    expect(m).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(m.body.message).toContain('metadata.tags must be an object');
  });
});
