import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startSchemaRegistry, type RegistryHandle } from './index.js';

const brokers = (): string => process.env['KAFKA_BROKERS']!;
const handles: RegistryHandle[] = [];
afterEach(async () => {
  while (handles.length) await handles.pop()!.close();
});
async function start(topic = `_schemas_${randomUUID()}`): Promise<RegistryHandle & { topic: string }> {
  const h = await startSchemaRegistry({ brokers: brokers(), port: 0, topic });
  handles.push(h);
  return { ...h, topic };
}

const CT = 'application/vnd.schemaregistry.v1+json';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- registry bodies are checked field by field
async function call(h: RegistryHandle, method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.url}${path}`, { method, headers: { 'content-type': CT }, ...(body !== undefined || raw !== undefined ? { body: raw ?? JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* raw schema text */
  }
  return { status: res.status, body: parsed };
}

const v1 = { type: 'record', name: 'User', namespace: 't', fields: [{ name: 'id', type: 'string' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'age', type: 'int', default: 0 }] };
const bad = { ...v1, fields: [...v1.fields, { name: 'email', type: 'string' }] }; // no default: not BACKWARD

describe('schema registry with the real @kafkajs/confluent-schema-registry client', () => {
  it('registers, encodes, decodes, serves the latest id, and surfaces incompatibility as an error', async () => {
    const h = await start();
    const client = new SchemaRegistry({ host: h.url });
    const subject = 'users-value';
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    const buf = await client.encode(id, { id: 'u1' });
    expect(buf[0]).toBe(0);
    expect(buf.readUInt32BE(1)).toBe(id);
    expect(await new SchemaRegistry({ host: h.url }).decode(buf)).toEqual({ id: 'u1' });
    const { id: id2 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject });
    expect(id2).not.toBe(id);
    expect(await client.getLatestSchemaId(subject)).toBe(id2);
    await expect(client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bad) }, { subject })).rejects.toThrow(/incompatible/i);
  });

  it('gives the same schema the same global id in every subject, without a new version', async () => {
    const h = await start();
    const a = await call(h, 'POST', '/subjects/a-value/versions', { schema: JSON.stringify(v1) });
    const again = await call(h, 'POST', '/subjects/a-value/versions', { schema: JSON.stringify(v1, null, 2) });
    const other = await call(h, 'POST', '/subjects/b-value/versions', { schema: JSON.stringify(v1) });
    expect(a.body).toEqual({ id: expect.any(Number) });
    expect(again.body).toEqual(a.body);
    expect(other.body).toEqual(a.body);
    expect((await call(h, 'GET', '/subjects/a-value/versions')).body).toEqual([1]);
    expect((await call(h, 'GET', `/schemas/ids/${a.body.id}/versions`)).body).toEqual([
      { subject: 'a-value', version: 1 },
      { subject: 'b-value', version: 1 },
    ]);
  });

  it('answers every documented error code, never a 500', async () => {
    const h = await start();
    await call(h, 'POST', '/subjects/s/versions', { schema: JSON.stringify(v1) });
    const cases: Array<[string, string, unknown, number, number, string?]> = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/s/versions/9', undefined, 404, 40402],
      ['GET', '/schemas/ids/9999', undefined, 404, 40403],
      ['POST', '/subjects/s', { schema: JSON.stringify(v2) }, 404, 40403],
      ['GET', '/subjects/s/versions/abc', undefined, 422, 42202],
      ['GET', '/subjects/s/versions/0', undefined, 422, 42202],
      ['POST', '/subjects/s/versions', { schema: '{"type":"record"' }, 422, 42201],
      ['POST', '/subjects/s/versions', { schema: JSON.stringify({ type: 'nonsense' }) }, 422, 42201],
      ['POST', '/subjects/s/versions', { nothing: true }, 422, 42201],
      ['POST', '/subjects/s/versions', { schema: JSON.stringify(bad) }, 409, 409],
      ['PUT', '/config/s', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['GET', '/config/s', undefined, 404, 40408],
      ['DELETE', '/subjects/s?permanent=true', undefined, 404, 40405],
      ['DELETE', '/subjects/s/versions/1?permanent=true', undefined, 404, 40407],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(h, method, path, body);
      expect({ path, status: r.status, code: r.body.error_code }).toEqual({ path, status, code });
      expect(typeof r.body.message).toBe('string');
    }
    const malformed = await call(h, 'POST', '/subjects/s/versions', undefined, '{not json');
    expect(malformed.status).toBe(400);
    const big = await call(h, 'POST', '/subjects/s/versions', undefined, JSON.stringify({ schema: 'x'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    // soft delete, then the delete-state codes
    expect((await call(h, 'DELETE', '/subjects/s/versions/1')).body).toBe(1);
    expect((await call(h, 'DELETE', '/subjects/s/versions/1')).body.error_code).toBe(40406);
    expect((await call(h, 'DELETE', '/subjects/s')).body.error_code).toBe(40404); // every version soft-deleted: the subject is
    await call(h, 'POST', '/subjects/t/versions', { schema: JSON.stringify(v1) });
    expect((await call(h, 'DELETE', '/subjects/t')).body).toEqual([1]);
    expect((await call(h, 'DELETE', '/subjects/t')).body.error_code).toBe(40404);
  });

  it('handles odd subject names', async () => {
    const h = await start();
    for (const subject of ['with space', 'a:b', 'a/b', 'ü-value']) {
      const enc = encodeURIComponent(subject);
      const r = await call(h, 'POST', `/subjects/${enc}/versions`, { schema: JSON.stringify(v1) });
      expect(r.status).toBe(200);
      expect((await call(h, 'GET', `/subjects/${enc}/versions/latest`)).body.subject).toBe(subject);
    }
    expect((await call(h, 'GET', '/subjects')).body).toEqual(expect.arrayContaining(['with space', 'a:b', 'a/b', 'ü-value']));
  });

  it('keeps counting versions after a soft delete; permanent delete needs a soft delete first', async () => {
    const h = await start();
    await call(h, 'PUT', '/config/k', { compatibility: 'NONE' });
    await call(h, 'POST', '/subjects/k/versions', { schema: JSON.stringify(v1) });
    await call(h, 'POST', '/subjects/k/versions', { schema: JSON.stringify(v2) });
    await call(h, 'DELETE', '/subjects/k/versions/2');
    await call(h, 'POST', '/subjects/k/versions', { schema: JSON.stringify(bad) });
    expect((await call(h, 'GET', '/subjects/k/versions')).body).toEqual([1, 3]);
    expect((await call(h, 'GET', '/subjects/k/versions?deleted=true')).body).toEqual([1, 2, 3]);
    expect((await call(h, 'DELETE', '/subjects/k/versions/2?permanent=true')).body).toBe(2);
    expect((await call(h, 'GET', '/subjects/k/versions?deleted=true')).body).toEqual([1, 3]);
  });

  it('serves config at global and subject level, and JSON Schema with schemaType and references', async () => {
    const h = await start();
    expect((await call(h, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call(h, 'GET', '/config/x?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call(h, 'PUT', '/config/x', { compatibility: 'full_transitive' })).body).toEqual({ compatibility: 'FULL_TRANSITIVE' });
    expect((await call(h, 'GET', '/config/x')).body).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
    expect((await call(h, 'GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    const js = await call(h, 'POST', '/subjects/j/versions', { schemaType: 'JSON', schema: '{"type":"object","properties":{"a":{"type":"string"}}}' });
    const got = await call(h, 'GET', `/schemas/ids/${js.body.id}`);
    expect(got.body.schemaType).toBe('JSON');
    const ref = await call(h, 'POST', '/subjects/r/versions', { schema: JSON.stringify({ type: 'record', name: 'Outer', fields: [{ name: 'u', type: 't.User' }] }), references: [{ name: 't.User', subject: 'j', version: 1 }] });
    expect(ref.status).toBe(200);
    expect((await call(h, 'GET', '/subjects/r/versions/1')).body.references).toEqual([{ name: 't.User', subject: 'j', version: 1 }]);
    const compat = await call(h, 'POST', '/compatibility/subjects/x/versions/latest', { schema: JSON.stringify(v1) });
    expect(compat.body.error_code).toBe(40401);
    await call(h, 'POST', '/subjects/y/versions', { schema: JSON.stringify(v1) });
    expect((await call(h, 'POST', '/compatibility/subjects/y/versions/latest', { schema: JSON.stringify(v2) })).body).toEqual({ is_compatible: true });
    expect((await call(h, 'POST', '/compatibility/subjects/y/versions/latest?verbose=true', { schema: JSON.stringify(bad) })).body).toMatchObject({ is_compatible: false, messages: [expect.stringMatching(/email/)] });
  });

  it('a restarted registry serves every id, version and config as before', async () => {
    const first = await start();
    const a = await call(first, 'POST', '/subjects/a/versions', { schema: JSON.stringify(v1) });
    await call(first, 'POST', '/subjects/a/versions', { schema: JSON.stringify(v2) });
    await call(first, 'PUT', '/config/a', { compatibility: 'FORWARD' });
    await call(first, 'DELETE', '/subjects/a/versions/1');
    const snapshot = async (h: RegistryHandle): Promise<unknown> => ({
      subjects: (await call(h, 'GET', '/subjects?deleted=true')).body,
      versions: (await call(h, 'GET', '/subjects/a/versions?deleted=true')).body,
      latest: (await call(h, 'GET', '/subjects/a/versions/latest')).body,
      byId: (await call(h, 'GET', `/schemas/ids/${a.body.id}`)).body,
      config: (await call(h, 'GET', '/config/a')).body,
    });
    const before = await snapshot(first);
    await first.close();
    handles.splice(handles.indexOf(first), 1);
    const second = await start(first.topic);
    expect(await snapshot(second)).toEqual(before);
  });

  it('two instances on one topic never hand out one id for different schemas', async () => {
    const one = await start();
    const two = await start(one.topic);
    const schemas = Array.from({ length: 12 }, (_, i) => ({ type: 'record', name: `S${i}`, fields: [{ name: 'f', type: 'string' }] }));
    const results = await Promise.all(schemas.map((s, i) => call(i % 2 ? one : two, 'POST', `/subjects/s${i}/versions`, { schema: JSON.stringify(s) })));
    const ids = results.map((r) => r.body.id as number);
    expect(new Set(ids).size).toBe(schemas.length);
    for (const [i, id] of ids.entries()) {
      expect(JSON.parse((await call(i % 2 ? two : one, 'GET', `/schemas/ids/${id}`)).body.schema)).toEqual(schemas[i]);
    }
  });
});
