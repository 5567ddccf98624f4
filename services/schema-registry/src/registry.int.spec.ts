import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import type { Root } from 'protobufjs';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { PreflightError } from '@preflight/core';
import { freePort, waitFor } from '@preflight/local-infra';
import { startSchemaRegistry, type RegistryHandle } from './index.js';
import { decodeMessageIndexes, encodeMessageIndexes, messageAt, messageIndexes, parseProtobuf } from './protobuf.js';

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
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=preflight-source', 'services/schema-registry/src/main.ts'], {
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

const timestampProto = 'syntax = "proto3";\npackage google.protobuf;\nmessage Timestamp { int64 seconds = 1; int32 nanos = 2; }\n';
const moneyProto = 'syntax = "proto3";\npackage acme.common;\nmessage Money { string currency = 1; int64 units = 2; }\n';
const ordersProto = `syntax = "proto3";
package acme.orders;
import "acme/common/money.proto";
import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  repeated Line lines = 2;
  acme.common.Money total = 3;
  google.protobuf.Timestamp placed_at = 4;
  message Line {
    string sku = 1;
    int32 qty = 2;
  }
}
message Shipment { string order_id = 1; Order.Line line = 2; }
`;

describe('PROTOBUF with the real @kafkajs/confluent-schema-registry client', () => {
  it('registers with references (a well-known type among them), encodes and decodes, including Confluent-framed nested messages', async () => {
    const h = await start();
    const client = new SchemaRegistry({ host: h.url });
    const tag = randomUUID();
    const moneySubject = `acme-money-${tag}`;
    const tsSubject = `google-timestamp-${tag}`;
    const { id: moneyId } = await client.register({ type: SchemaType.PROTOBUF, schema: moneyProto }, { subject: moneySubject });
    // The client parses what the registry serves with protobufjs and resolves imports only from
    // references, so the well-known type goes in as one too (the registry alone would not need it).
    await client.register({ type: SchemaType.PROTOBUF, schema: timestampProto }, { subject: tsSubject });
    const references = [
      { name: 'acme/common/money.proto', subject: moneySubject, version: 1 },
      { name: 'google/protobuf/timestamp.proto', subject: tsSubject, version: 1 },
    ];
    const subject = `orders-${tag}-value`;
    const { id } = await client.register({ type: SchemaType.PROTOBUF, schema: ordersProto, references }, { subject });
    expect(id).toBeGreaterThan(moneyId);
    expect((await call(h, 'GET', `/subjects/${subject}/versions/1`)).body).toEqual({ subject, version: 1, id, schemaType: 'PROTOBUF', references, schema: ordersProto });
    expect((await call(h, 'GET', `/subjects/${moneySubject}/versions/1/referencedby`)).body).toEqual([id]);

    // The client parses with protobufjs' defaults, which camel-case field names.
    const order = { id: 'o-1', lines: [{ sku: 'sku-1', qty: 2 }], total: { currency: 'EUR', units: 12 }, placedAt: { seconds: 1700000000, nanos: 5 } };
    const encoded = await client.encode(id, order);
    expect(encoded.readUInt32BE(1)).toBe(id);
    // A fresh client fetches the schema and its references by id to decode.
    const decoded = (await new SchemaRegistry({ host: h.url }).decode(encoded)) as { toJSON(): unknown };
    expect(decoded.toJSON()).toEqual({ id: 'o-1', lines: [{ sku: 'sku-1', qty: 2 }], total: { currency: 'EUR', units: '12' }, placedAt: { seconds: '1700000000', nanos: 5 } });

    // Confluent's serializers put message indexes between the id and the payload; the first
    // message is the single byte 0, which this client skips when decoding.
    const payload = encoded.subarray(5);
    const framed = Buffer.concat([encoded.subarray(0, 5), encodeMessageIndexes(messageIndexes(parseProtobuf(ordersProto, [{ name: 'acme/common/money.proto', schema: moneyProto }, { name: 'google/protobuf/timestamp.proto', schema: timestampProto }]).file, 'Order')), payload]);
    expect(framed[5]).toBe(0);
    expect(((await new SchemaRegistry({ host: h.url }).decode(framed)) as { toJSON(): unknown }).toJSON()).toMatchObject({ id: 'o-1' });

    // A nested message gets the path [0, 0]: resolved against the schema the registry serves for
    // the id, with the client's own parsed types.
    const served = (await call(h, 'GET', `/schemas/ids/${id}`)).body as { schema: string };
    const deps = await Promise.all(references.map(async (r) => ({ name: r.name, schema: ((await call(h, 'GET', `/subjects/${r.subject}/versions/${r.version}`)).body as { schema: string }).schema })));
    const file = parseProtobuf(served.schema, deps).file;
    expect(messageIndexes(file, 'Order.Line')).toEqual([0, 0]);
    expect(messageIndexes(file, 'Shipment')).toEqual([1]);
    const root = ((await client.getSchema(id)) as unknown as { message: { root: Root } }).message.root;
    const line = root.lookupType('acme.orders.Order.Line');
    const lineFrame = Buffer.concat([encoded.subarray(0, 5), encodeMessageIndexes(messageIndexes(file, 'Order.Line')), Buffer.from(line.encode(line.create({ sku: 'n', qty: 3 })).finish())]);
    const read = decodeMessageIndexes(lineFrame, 5);
    expect(read.indexes).toEqual([0, 0]);
    const type = root.lookupType(messageAt(file, read.indexes));
    expect(type.toObject(type.decode(lineFrame.subarray(read.offset)))).toEqual({ sku: 'n', qty: 3 });

    // Looked up by the client, and a field number reused with another type is refused.
    expect(await client.getRegistryIdBySchema(moneySubject, { type: SchemaType.PROTOBUF, schema: moneyProto.replace(/\n/g, ' ') })).toBe(moneyId);
    await expect(client.register({ type: SchemaType.PROTOBUF, schema: moneyProto.replace('int64 units = 2', 'string units = 2') }, { subject: moneySubject })).rejects.toThrow(
      /FIELD_SCALAR_KIND_CHANGED/,
    );
  });

  it('passes and fails registrations at all seven levels, as the client sees them, and keeps them across a restart', async () => {
    const topic = `_schemas_${randomUUID()}`;
    const h = await start(topic);
    const client = new SchemaRegistry({ host: h.url });
    const withoutUnits = moneyProto.replace('int64 units = 2;', '');
    const unitsAsString = moneyProto.replace('int64 units = 2', 'string units = 2');
    const withNote = moneyProto.replace('int64 units = 2;', 'int64 units = 2; string note = 3;');
    const withExtra = `${moneyProto}message Extra { int32 x = 1; }\n`;
    // Transitive levels see the reused number 2 against version 1 only: version 2 had removed it.
    const reused = withoutUnits.replace('string currency = 1;', 'string currency = 1; string units = 2;');
    const noteInsteadOfUnits = withoutUnits.replace('string currency = 1;', 'string currency = 1; string note = 3;');
    const cases: Array<{ level: string; history: string[]; pass: string; fail?: string }> = [
      { level: 'NONE', history: [moneyProto], pass: unitsAsString },
      { level: 'BACKWARD', history: [moneyProto], pass: withoutUnits, fail: unitsAsString },
      { level: 'BACKWARD_TRANSITIVE', history: [moneyProto, withoutUnits], pass: noteInsteadOfUnits, fail: reused },
      { level: 'FORWARD', history: [moneyProto], pass: withNote, fail: unitsAsString },
      { level: 'FORWARD_TRANSITIVE', history: [moneyProto, withoutUnits], pass: noteInsteadOfUnits, fail: reused },
      { level: 'FULL', history: [moneyProto], pass: withNote, fail: withExtra },
      { level: 'FULL_TRANSITIVE', history: [moneyProto, withoutUnits], pass: noteInsteadOfUnits, fail: reused },
    ];
    for (const { level, history, pass, fail } of cases) {
      const subject = `${level.toLowerCase()}-value`;
      // The client sets the level on a subject's first registration and refuses to register under another one.
      const opts = { subject, compatibility: COMPATIBILITY[level as keyof typeof COMPATIBILITY] };
      for (const schema of history) await client.register({ type: SchemaType.PROTOBUF, schema }, opts);
      expect((await call(h, 'GET', `/config/${subject}`)).body).toEqual({ compatibilityLevel: level });
      if (fail) await expect(client.register({ type: SchemaType.PROTOBUF, schema: fail }, opts), level).rejects.toThrow(/incompatible/);
      const { id } = await client.register({ type: SchemaType.PROTOBUF, schema: pass }, opts);
      expect((await call(h, 'GET', `/subjects/${subject}/versions/latest`)).body, level).toMatchObject({ id, version: history.length + 1 });
    }
    await stop(h);
    const again = await start(topic);
    expect((await call(again, 'GET', '/subjects/full_transitive-value/versions/1')).body).toMatchObject({ schemaType: 'PROTOBUF', schema: moneyProto });
    expect((await call(again, 'GET', '/config/full_transitive-value')).body).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
    await expect(new SchemaRegistry({ host: again.url }).register({ type: SchemaType.PROTOBUF, schema: reused }, { subject: 'full_transitive-value', compatibility: COMPATIBILITY.FULL_TRANSITIVE })).rejects.toThrow(/incompatible/);
  });
});

describe('data-contract metadata and rule sets, stored in _schemas', () => {
  it('round-trips metadata, ruleSet and config defaults over raw HTTP and a restart', async () => {
    const topic = `_schemas_${randomUUID()}`;
    const h = await start(topic);
    const metadata = { tags: { 'User.id': ['PII'] }, properties: { owner: 'team-users' }, sensitive: ['owner'] };
    const ruleSet = { domainRules: [{ name: 'idNotEmpty', kind: 'CONDITION', mode: 'WRITE', type: 'CEL', expr: "message.id != ''" }] };
    expect((await call(h, 'POST', '/subjects/c-value/versions', { ...avro(v1), metadata, ruleSet })).body).toEqual({ id: 1 });
    expect((await call(h, 'PUT', '/config/c-value', { overrideMetadata: { properties: { domain: 'users' } } })).status).toBe(200);
    expect((await call(h, 'POST', '/subjects/c-value/versions', avro(v2))).body).toEqual({ id: 2 });
    const v2Body = { subject: 'c-value', version: 2, id: 2, metadata: { ...metadata, properties: { domain: 'users', owner: 'team-users' } }, ruleSet, schema: JSON.stringify(v2) };
    expect((await call(h, 'GET', '/subjects/c-value/versions/2')).body).toEqual(v2Body);
    await stop(h);
    const again = await start(topic);
    expect((await call(again, 'GET', '/subjects/c-value/versions/2')).body).toEqual(v2Body);
    expect((await call(again, 'GET', '/subjects/c-value/versions/1')).body.metadata).toEqual(metadata);
    expect((await call(again, 'GET', '/config/c-value')).body).toEqual({ overrideMetadata: { properties: { domain: 'users' } } });
    // Same schema, same contract: the id it already has; a client that knows nothing of contracts still finds it.
    expect((await call(again, 'POST', '/subjects/c-value/versions', avro(v2))).body).toEqual({ id: 2 });
    expect(await new SchemaRegistry({ host: again.url }).getRegistryIdBySchema('c-value', { type: SchemaType.AVRO, schema: JSON.stringify(v2) })).toBe(2);
  });
});
