import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleEvents, type ConnectorEvent } from '@preflight/events';
import { makeTestPki, type TestPki } from '@preflight/local-infra';
import { eventually, randomPrefix, testBusConfig, testLogger } from '@preflight/testkit';
import { createBus, loadBusConfig, type Bus } from './index.js';

// A registry that demands credentials over TLS, the way Confluent Cloud (basic, key:secret) and
// an OIDC-fronted Apicurio (bearer) do: a real https server with the test run's registry behind
// it, answering 401 to anything without the right Authorization header.
let dir: string;
let pki: TestPki;
let server: Server;
let url: string;
const BASIC = `sr-key:${randomUUID()}`;
let bearer = `token-${randomUUID()}`;
const seenAuth: string[] = [];
const buses: Bus[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'registry-auth-'));
  pki = makeTestPki(join(dir, 'pki'));
  const upstream = new URL(testBusConfig().schemaRegistryUrl);
  server = createServer({ key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) }, (req, res) => {
    const auth = req.headers.authorization ?? '';
    seenAuth.push(auth.split(' ')[0] ?? '');
    const ok = auth === `Basic ${Buffer.from(BASIC).toString('base64')}` || auth === `Bearer ${bearer}`;
    if (!ok) {
      res.writeHead(401, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ error_code: 40101, message: 'Unauthorized' }));
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  writeFileSync(join(dir, 'basic'), `${BASIC}\n`);
  writeFileSync(join(dir, 'token'), bearer);
});

afterAll(async () => {
  for (const b of buses) await b.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function bus(env: Record<string, string>): Bus {
  const { config } = loadBusConfig('registry-auth', { KAFKA_BROKERS: testBusConfig().brokers.join(','), TOPIC_PREFIX: randomPrefix('sra'), SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_CA_FILE: pki.caCert, ...env });
  const b = createBus(config, testLogger());
  buses.push(b);
  return b;
}

async function roundTrip(b: Bus): Promise<ConnectorEvent> {
  await b.ensureTopics(1);
  await b.producer.start();
  const got: ConnectorEvent[] = [];
  const consumer = b.consumer({ groupId: `sra-${randomUUID()}`, handlers: { 'connector.handshake.requested': async (e) => void got.push(e) } });
  await consumer.start();
  const sent = { ...sampleEvents({ connectorId: `c-${randomUUID()}` })['connector.handshake.requested'], eventId: randomUUID() };
  await b.producer.publish(sent);
  return eventually('the event back through the authenticated registry', () => got.find((e) => e.eventId === sent.eventId), { timeoutMs: 60_000 });
}

describe('schema registry client auth over TLS', () => {
  it('basic auth (key:secret from a file) registers, encodes and decodes', async () => {
    seenAuth.length = 0;
    const e = await roundTrip(bus({ SCHEMA_REGISTRY_BASIC_AUTH_FILE: join(dir, 'basic') }));
    expect(e.eventType).toBe('connector.handshake.requested');
    expect(seenAuth.length).toBeGreaterThan(0);
    expect(new Set(seenAuth)).toEqual(new Set(['Basic']));
  });

  it('a bearer token is read from its file on every request, so a rotated one is used', async () => {
    seenAuth.length = 0;
    const b = bus({ SCHEMA_REGISTRY_BEARER_TOKEN_FILE: join(dir, 'token') });
    await roundTrip(b);
    expect(new Set(seenAuth)).toEqual(new Set(['Bearer']));
    bearer = `token-${randomUUID()}`;
    writeFileSync(join(dir, 'token'), bearer);
    const id = await b.codec.registerAvro(`${randomPrefix('rot')}value`, { type: 'record', name: 'Rotated', fields: [{ name: 'a', type: 'string' }] });
    expect(id).toBeGreaterThan(0);
  });

  it('wrong or missing credentials fail the start with the registry error, not a hang', async () => {
    writeFileSync(join(dir, 'wrong'), 'sr-key:wrong');
    await expect(bus({ SCHEMA_REGISTRY_BASIC_AUTH_FILE: join(dir, 'wrong') }).producer.start()).rejects.toThrow(/could not register the schema .*Unauthorized/);
    await expect(bus({}).producer.start()).rejects.toThrow(/Unauthorized/);
  });

  it('an https registry whose CA is not trusted is refused', async () => {
    const { config } = loadBusConfig('registry-auth', { KAFKA_BROKERS: testBusConfig().brokers.join(','), TOPIC_PREFIX: randomPrefix('sra'), SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_BASIC_AUTH_FILE: join(dir, 'basic') });
    const b = createBus(config, testLogger());
    buses.push(b);
    await expect(b.producer.start()).rejects.toThrow(/certificate/);
  });
});
