import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { PreflightError } from '@preflight/core';
import { freePort, waitFor } from '@preflight/local-infra';
import { startSchemaRegistry, type RegistryHandle } from './index.js';

// The global setup starts one broker and one registry for the run and publishes them here.
const brokers = (): string => process.env['KAFKA_BROKERS']!;
const kafka = (): Kafka => new Kafka({ brokers: brokers().split(','), clientId: 'schema-registry-test', logLevel: logLevel.NOTHING });

const handles: RegistryHandle[] = [];
const topics: string[] = [];
afterEach(async () => {
  while (handles.length) await handles.pop()!.close();
  const admin = kafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topics.splice(0) }).catch(() => undefined);
  await admin.disconnect();
});

async function start(topic = `_schemas_${randomUUID()}`, extra: { writeTimeoutMs?: number } = {}): Promise<RegistryHandle & { topic: string }> {
  if (!topics.includes(topic)) topics.push(topic);
  const h = await startSchemaRegistry({ brokers: brokers(), port: 0, topic, ...extra });
  handles.push(h);
  return { ...h, topic };
}

async function stop(h: RegistryHandle): Promise<void> {
  await h.close();
  handles.splice(handles.indexOf(h), 1);
}

const CT = 'application/vnd.schemaregistry.v1+json';
async function call(h: { url: string }, method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; body: any }> {
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
const avro = (schema: unknown): { schema: string } => ({ schema: JSON.stringify(schema) });

describe('with the real @kafkajs/confluent-schema-registry client', () => {
  it('registers, encodes, decodes, serves the latest id, and surfaces incompatibility as an error', async () => {
    const h = await start();
    const client = new SchemaRegistry({ host: h.url });
    const subject = 'users-value';
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    const buf = await client.encode(id, { id: 'u1' });
    expect(buf[0]).toBe(0);
    expect(buf.readUInt32BE(1)).toBe(id);
    // A fresh client has no cache: it must fetch the schema by id to decode.
    expect(await new SchemaRegistry({ host: h.url }).decode(buf)).toEqual({ id: 'u1' });
    const { id: id2 } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject });
    expect(id2).not.toBe(id);
    expect(await new SchemaRegistry({ host: h.url }).getLatestSchemaId(subject)).toBe(id2);
    expect(await client.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: JSON.stringify(v1) })).toBe(id);
    expect(await client.getRegistryId(subject, 1)).toBe(id);
    const decodedOld = await new SchemaRegistry({ host: h.url }).decode(await client.encode(id2, { id: 'u2', age: 7 }));
    expect(decodedOld).toEqual({ id: 'u2', age: 7 });
    await expect(client.register({ type: SchemaType.AVRO, schema: JSON.stringify(bad) }, { subject })).rejects.toThrow(/incompatible/i);
    expect((await call(h, 'GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2]);
  });

  it('serves the registry the global setup started for the other suites', async () => {
    const url = process.env['SCHEMA_REGISTRY_URL']!;
    const client = new SchemaRegistry({ host: url });
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject: `setup-${randomUUID()}-value` });
    expect(await client.decode(await client.encode(id, { id: 'x' }))).toEqual({ id: 'x' });
  });
});

describe('over raw HTTP against Kafka', () => {
  it('gives the same schema the same id in every subject, without a new version', async () => {
    const h = await start();
    const a = await call(h, 'POST', '/subjects/a-value/versions', avro(v1));
    const again = await call(h, 'POST', '/subjects/a-value/versions', { schema: JSON.stringify(v1, null, 2) });
    const other = await call(h, 'POST', '/subjects/b-value/versions', avro(v1));
    expect(a.body).toEqual({ id: 1 });
    expect([again.body, other.body]).toEqual([a.body, a.body]);
    expect((await call(h, 'GET', '/subjects/a-value/versions')).body).toEqual([1]);
    expect((await call(h, 'GET', '/schemas/ids/1/versions')).body).toEqual([
      { subject: 'a-value', version: 1 },
      { subject: 'b-value', version: 1 },
    ]);
  });

  it('answers each error code with its HTTP status, never a 500', async () => {
    const h = await start();
    await call(h, 'POST', '/subjects/s/versions', avro(v1));
    await call(h, 'POST', '/subjects/gone/versions', avro(v1));
    await call(h, 'DELETE', '/subjects/gone');
    await call(h, 'POST', '/subjects/soft/versions', avro(v1));
    await call(h, 'DELETE', '/subjects/soft/versions/1');
    await call(h, 'POST', '/subjects/soft/versions', avro(v2));
    const cases: Array<[string, string, unknown, number, number]> = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/s/versions/9', undefined, 404, 40402],
      ['GET', '/schemas/ids/9999', undefined, 404, 40403],
      ['POST', '/subjects/s', avro(v2), 404, 40403],
      ['DELETE', '/subjects/gone', undefined, 404, 40404],
      ['DELETE', '/subjects/s?permanent=true', undefined, 404, 40405],
      ['DELETE', '/subjects/soft/versions/1', undefined, 404, 40406],
      ['DELETE', '/subjects/soft/versions/2?permanent=true', undefined, 404, 40407],
      ['GET', '/config/s', undefined, 404, 40408],
      ['POST', '/subjects/s/versions', avro(bad), 409, 409],
      ['POST', '/subjects/s/versions', { schema: '{"type":"record"' }, 422, 42201],
      ['POST', '/subjects/s/versions', avro({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'nope' }] }), 422, 42201],
      ['GET', '/subjects/s/versions/abc', undefined, 422, 42202],
      ['PUT', '/config/s', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['POST', `/subjects/${encodeURIComponent('__GLOBAL')}/versions`, avro(v1), 422, 42208],
    ];
    for (const [method, url, body, status, code] of cases) {
      const r = await call(h, method, url, body);
      expect({ method, url, status: r.status, code: r.body?.error_code }).toEqual({ method, url, status, code });
    }
    expect((await call(h, 'POST', '/subjects/s/versions', undefined, '{not json')).status).toBe(400);
    expect((await call(h, 'POST', '/subjects/s/versions', undefined, JSON.stringify({ schema: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(413);
    // Still healthy after all of that.
    expect((await call(h, 'GET', '/subjects/s/versions/latest')).body.id).toBe(1);
  });

  it('stores subjects with colons, slashes and spaces, URL-encoded', async () => {
    const h = await start();
    for (const subject of ['with space', 'a:b', 'a/b', 'ü-value']) {
      const enc = encodeURIComponent(subject);
      expect((await call(h, 'POST', `/subjects/${enc}/versions`, avro(v1))).status).toBe(200);
      expect((await call(h, 'GET', `/subjects/${enc}/versions/latest`)).body.subject).toBe(subject);
    }
    expect((await call(h, 'GET', '/subjects')).body).toEqual(['a/b', 'a:b', 'with space', 'ü-value']);
  });

  it('answers 50001/50002 when Kafka cannot take a write, and keeps serving reads', async () => {
    const h = await start(undefined, { writeTimeoutMs: 3000 });
    await call(h, 'POST', '/subjects/s/versions', avro(v1));
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [h.topic] });
    // Deletion completes asynchronously; write only once the broker no longer lists the topic.
    for (let i = 0; i < 100 && (await admin.listTopics()).includes(h.topic); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    await admin.disconnect();
    topics.splice(topics.indexOf(h.topic), 1);
    const r = await call(h, 'POST', '/subjects/s/versions', avro(v2));
    expect(r.status).toBe(500);
    expect([50001, 50002]).toContain(r.body.error_code);
    expect((await call(h, 'GET', '/subjects/s/versions')).body).toEqual([1]);
  });
});

describe('storage in the _schemas topic', () => {
  it('creates a compacted single-partition topic and writes Confluent record shapes', async () => {
    const h = await start();
    await call(h, 'POST', '/subjects/s/versions', avro(v1));
    await call(h, 'PUT', '/config/s', { compatibility: 'FULL' });
    const admin = kafka().admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [h.topic] });
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: h.topic, configNames: ['cleanup.policy'] }] });
    await admin.disconnect();
    expect(meta.topics[0]?.partitions).toHaveLength(1);
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('compact');

    const seen: Array<[string, string | null]> = [];
    const consumer = kafka().consumer({ groupId: `peek-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: h.topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push([message.key!.toString(), message.value?.toString() ?? null]) });
    await waitFor('records', async () => seen.some(([k]) => k.includes('CONFIG')), { timeoutMs: 20_000, intervalMs: 100 });
    await consumer.disconnect();
    const data = seen.filter(([k]) => !k.includes('NOOP'));
    expect(data).toEqual([
      ['{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', JSON.stringify({ subject: 's', version: 1, id: 1, schema: JSON.stringify(v1), deleted: false })],
      ['{"keytype":"CONFIG","subject":"s","magic":0}', '{"compatibilityLevel":"FULL"}'],
    ]);
    expect(seen.filter(([k]) => k.includes('NOOP')).every(([k, v]) => k === '{"keytype":"NOOP","magic":0}' && v === null)).toBe(true);
  });

  it('refuses a topic with more than one partition, and skips records it cannot read', async () => {
    const topic = `_schemas_${randomUUID()}`;
    topics.push(topic);
    const admin = kafka().admin();
    await admin.connect();
    // No kafkajs leader wait (it gives up on a fresh broker's metadata lag): the registry waits for leaders itself.
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
    await expect(start(topic)).rejects.toSatisfy((e: unknown) => e instanceof PreflightError && e.code === 'CONFIG' && /2 partitions/.test(e.message));

    const junk = `_schemas_${randomUUID()}`;
    await start(junk).then(stop);
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({
      topic: junk,
      messages: [
        { key: 'not json', value: 'x' },
        { key: '{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', value: '[1,2]' },
        { key: '{"keytype":"SCHEMA","subject":"s","version":2,"magic":1}', value: '{"id":"one","schema":7}' },
      ],
    });
    await producer.disconnect();
    const h = await start(junk);
    expect((await call(h, 'POST', '/subjects/s/versions', avro(v1))).body).toEqual({ id: 1 });
  });

  it('a restarted registry serves every id, version, config and mode as before, and keeps counting', async () => {
    const first = await start();
    await call(first, 'PUT', '/config', { compatibility: 'FULL_TRANSITIVE' });
    await call(first, 'PUT', '/config/a', { compatibility: 'NONE' });
    for (const s of [v1, v2, bad]) await call(first, 'POST', '/subjects/a/versions', avro(s));
    await call(first, 'POST', '/subjects/b/versions', avro(v2));
    await call(first, 'POST', '/subjects/c/versions', avro({ type: 'record', name: 'C', fields: [] }));
    await call(first, 'POST', '/subjects/j/versions', { schemaType: 'JSON', schema: '{"type":"object"}' });
    await call(first, 'DELETE', '/subjects/a/versions/1');
    await call(first, 'DELETE', '/subjects/c');
    await call(first, 'DELETE', '/subjects/c?permanent=true');
    await call(first, 'PUT', '/mode/b', { mode: 'READONLY' });
    const snapshot = async (h: RegistryHandle): Promise<unknown> => {
      const subjects = (await call(h, 'GET', '/subjects?deleted=true')).body as string[];
      const versions: Record<string, unknown> = {};
      for (const s of subjects) {
        for (const v of (await call(h, 'GET', `/subjects/${s}/versions?deleted=true`)).body as number[]) {
          versions[`${s}/${v}`] = (await call(h, 'GET', `/subjects/${s}/versions/${v}?deleted=true`)).body;
        }
      }
      const ids: Record<number, unknown> = {};
      for (let id = 1; id <= 5; id++) ids[id] = (await call(h, 'GET', `/schemas/ids/${id}`)).body;
      return {
        subjects,
        live: (await call(h, 'GET', '/subjects')).body,
        versions,
        ids,
        global: (await call(h, 'GET', '/config')).body,
        a: (await call(h, 'GET', '/config/a')).body,
        mode: (await call(h, 'GET', '/mode/b')).body,
      };
    };
    const before = await snapshot(first);
    await stop(first);
    const second = await start(first.topic);
    expect(await snapshot(second)).toEqual(before);
    // Ids and versions continue after the highest ones on the topic, soft-deleted included.
    expect((await call(second, 'POST', '/subjects/a/versions', avro({ ...v1, doc: 'new' }))).body).toEqual({ id: 6 });
    expect((await call(second, 'GET', '/subjects/a/versions')).body).toEqual([2, 3, 4]);
    expect((await call(second, 'POST', '/subjects/b/versions', avro(v1))).body.error_code).toBe(42205);
  });
});

describe('several instances on one topic', () => {
  it('never hand out one id for two schemas, nor one version twice, when registering concurrently', async () => {
    const one = await start();
    const two = await start(one.topic);
    await call(one, 'PUT', '/config/shared', { compatibility: 'NONE' });
    const schemas = Array.from({ length: 10 }, (_, i) => ({ type: 'record', name: `S${i}`, fields: [{ name: 'f', type: 'string' }] }));
    const [separate, shared] = await Promise.all([
      Promise.all(schemas.map((s, i) => call(i % 2 ? one : two, 'POST', `/subjects/s${i}/versions`, avro(s)))),
      Promise.all(schemas.map((s, i) => call(i % 2 ? two : one, 'POST', '/subjects/shared/versions', avro(s)))),
    ]);
    const ids = separate.map((r) => r.body.id as number);
    expect(new Set(ids).size).toBe(schemas.length);
    // The same schema in another subject kept its id, whichever instance registered it.
    expect(shared.map((r) => r.body.id)).toEqual(ids);
    await waitFor('both instances caught up', async () => (await call(one, 'GET', '/subjects/shared/versions')).body.length === 10 && (await call(two, 'GET', '/subjects/shared/versions')).body.length === 10, {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    for (const h of [one, two]) {
      expect((await call(h, 'GET', '/subjects/shared/versions')).body).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const [i, id] of ids.entries()) expect(JSON.parse((await call(h, 'GET', `/schemas/ids/${id}`)).body.schema)).toEqual(schemas[i]);
    }
    const byVersion = await Promise.all(Array.from({ length: 10 }, (_, v) => call(one, 'GET', `/subjects/shared/versions/${v + 1}`)));
    expect(new Set(byVersion.map((r) => r.body.id)).size).toBe(10);
  });
});

describe('fencing', () => {
  it("a writer that died mid-transaction neither blocks the next one nor leaks its uncommitted record", async () => {
    const topic = `_schemas_${randomUUID()}`;
    await start(topic).then(stop);
    // Plays an instance that crashed between sending and committing.
    const zombie = kafka().producer({ transactionalId: `schema-registry:${topic}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
    await zombie.connect();
    const txn = await zombie.transaction();
    await txn.send({
      topic,
      messages: [{ key: '{"keytype":"SCHEMA","subject":"z","version":1,"magic":1}', value: JSON.stringify({ subject: 'z', version: 1, id: 1, schema: '"string"', deleted: false }) }],
    });
    const began = Date.now();
    const h = await start(topic);
    expect(Date.now() - began).toBeLessThan(15_000); // far below the zombie's 60 s transaction timeout
    await expect(txn.commit()).rejects.toThrow();
    await zombie.disconnect().catch(() => undefined);
    expect((await call(h, 'GET', '/subjects?deleted=true')).body).toEqual([]);
    expect((await call(h, 'POST', '/subjects/s/versions', avro(v1))).body).toEqual({ id: 1 });
    expect(JSON.parse((await call(h, 'GET', '/schemas/ids/1')).body.schema)).toEqual(v1);
  });
});

describe('main.ts', () => {
  it('starts from the environment and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const topic = `_schemas_${randomUUID()}`;
    topics.push(topic);
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', 'services/schema-registry/src/main.ts'], {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: brokers(), SCHEMA_REGISTRY_PORT: String(port), SCHEMA_REGISTRY_TOPIC: topic, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('registry from main.ts', async () => output.includes('schema registry listening'), { timeoutMs: 60_000, intervalMs: 100 });
      expect((await call({ url: `http://127.0.0.1:${port}` }, 'POST', '/subjects/m/versions', avro(v1))).body).toEqual({ id: 1 });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toMatch(/"service":"schema-registry"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
