import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, createKafka, explainKafkaFailure, loadBusConfig, type Bus } from '@preflight/bus';
import { newEvent, type ConnectorEvent, type ConnectorSpec } from '@preflight/events';
import { freePort, makeTestPki, portOpen, startKafka, waitFor, type KafkaHandle, type TestPki } from '@preflight/local-infra';
import { eventually, randomPrefix, testLogger } from '@preflight/testkit';
import { devScopes } from '@preflight/connectors';
import { startHandshakeService } from '@preflight/handshake';
import { startSchemaValidatorService } from '@preflight/schema-validator';
import { startCredentialAuditorService } from '@preflight/credential-auditor';
import { startReadinessService } from '@preflight/readiness';
import { signDevToken, startProjectorService, type ProjectorService } from '@preflight/projector';

// The production shape on one machine: a broker that only speaks SASL_SSL (SCRAM users made at
// format time, mutual TLS required, certificates made by openssl for this run), the bundled
// registry as its own process and the whole pipeline configured only through the environment
// variables an operator would set.
const root = fileURLToPath(new URL('../..', import.meta.url));
const USER = 'preflight-svc';
const PASSWORD = randomBytes(12).toString('hex');
const JWT = 'kafka-security-test-secret';

let dir: string;
let pki: TestPki;
let kafka: KafkaHandle;
let env: Record<string, string>;
const children: ChildProcess[] = [];
let bus: Bus | undefined;
let projector: ProjectorService | undefined;
const stops: Array<() => Promise<void>> = [];

function spawnTsx(main: string, extraEnv: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=preflight-source', join(root, main)], {
    cwd: root,
    // Only what an operator would set: no test variables leak in from this process.
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'warn', ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'preflight-sasl-'));
  pki = makeTestPki(join(dir, 'pki'));
  kafka = await startKafka({
    dir: join(dir, 'kafka'),
    heapMb: 384,
    saslSsl: { pki, clientAuth: 'required', scramUsers: [{ mechanism: 'SCRAM-SHA-512', name: USER, password: PASSWORD }] },
  });
  writeFileSync(join(dir, 'kafka-password'), `${PASSWORD}\n`);
  env = {
    KAFKA_BROKERS: kafka.brokers,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD_FILE: join(dir, 'kafka-password'),
    KAFKA_SSL_CA_FILE: pki.caCert,
    KAFKA_SSL_CERT_FILE: pki.clientCert,
    KAFKA_SSL_KEY_FILE: pki.clientKey,
  };
  const registryPort = await freePort();
  const registry = spawnTsx('services/schema-registry/src/main.ts', { SCHEMA_REGISTRY_PORT: String(registryPort) });
  await waitFor('the schema registry over SASL_SSL', async () => {
    if (registry.child.exitCode !== null) throw new Error(`registry exited ${registry.child.exitCode}: ${registry.output()}`);
    return portOpen(registryPort);
  }, { timeoutMs: 90_000, intervalMs: 200 });
  env['SCHEMA_REGISTRY_URL'] = `http://127.0.0.1:${registryPort}`;
}, 240_000);

afterAll(async () => {
  await projector?.stop();
  for (const s of stops.reverse()) await s().catch(() => undefined);
  await bus?.stop();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))));
  await kafka?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('the platform on a SASL_SSL cluster (SCRAM-SHA-512 + mutual TLS)', () => {
  it('runs preflights end to end through it: one READY, one FAILED', async () => {
    const logger = testLogger('sasl');
    // The same loader every service's main runs, on the operator's variables.
    const { config } = loadBusConfig('sasl-test', { ...env, TOPIC_PREFIX: randomPrefix('sasl') });
    expect(config.kafkaSecurity?.protocol).toBe('SASL_SSL');
    bus = createBus(config, logger);
    await bus.ensureTopics(2);
    await bus.producer.start();
    // Tenant acme's files live in its files root, as every tenant's do.
    const scopes = devScopes({ filesRoot: join(dir, 'files') });
    for (const start of [startHandshakeService, startSchemaValidatorService, startCredentialAuditorService]) {
      const s = await start({ bus, logger, scopes });
      stops.push(() => s.stop());
    }
    const readiness = await startReadinessService({ bus, logger, settings: { preflightTimeoutMs: 60_000 } });
    stops.push(() => readiness.stop());
    projector = await startProjectorService({ bus, logger, http: { port: await freePort() }, auth: { mode: 'hs256', secret: JWT } });

    const outcomes = new Map<string, ConnectorEvent>();
    const watcher = bus.consumer({ groupId: `sasl-watch-${randomUUID()}`, handlers: { 'connector.validated': async (e) => void outcomes.set(e.connectorId, e) } });
    await watcher.start();

    mkdirSync(join(dir, 'files', 'acme'), { recursive: true });
    const demo = mkdtempSync(join(dir, 'files', 'acme', 'demo-'));
    cpSync(join(root, 'examples', 'demo', 'data'), demo, { recursive: true });
    const contract = (name: string): string => readFileSync(join(root, 'examples', 'demo', 'contracts', name), 'utf8');
    const run = randomBytes(3).toString('hex');
    const cases = [
      { id: `sasl-good-${run}`, contract: 'customers.odcs.yaml', expect: 'READY' },
      { id: `sasl-drift-${run}`, contract: 'customers-drifted.odcs.yaml', expect: 'FAILED' },
    ];
    for (const c of cases) {
      const spec: ConnectorSpec = {
        name: c.id,
        sourceType: 'files',
        configJson: JSON.stringify({ type: 'files', path: demo }),
        contractYaml: contract(c.contract),
        environment: 'development',
        owner: 'sasl-test',
        labels: {},
      };
      await bus.producer.publish(
        newEvent('connector.registered', { spec, autoPreflight: true }, { producer: 'test@0.1.0', tenantId: 'acme', connectorId: c.id, correlationId: randomUUID(), actor: 'system:test' }),
      );
    }
    await eventually('both outcomes over SASL_SSL', () => outcomes.size === cases.length || undefined, { timeoutMs: 120_000, intervalMs: 200 });
    for (const c of cases) {
      const o = outcomes.get(c.id);
      expect(o?.eventType === 'connector.validated' ? o.status : undefined, c.id).toBe(c.expect);
    }
    // The read side (projector fold and its admin-client topic view) works over the same cluster.
    const token = await signDevToken({ roles: ['platform_admin'], tenant: 'acme' }, JWT);
    const headers = { authorization: `Bearer ${token}` };
    const state = await eventually('the projector state', async () => {
      const r = await fetch(`${projector!.url}/api/connectors/${cases[0]!.id}`, { headers });
      const body = r.ok ? ((await r.json()) as { status?: string }) : undefined;
      return body?.status === 'READY' ? body : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(state.status).toBe('READY');
    const topics = await fetch(`${projector.url}/api/topics`, { headers });
    expect(topics.status).toBe(200);
    expect(JSON.stringify(await topics.json())).toContain('connector.validated');
  });

  it('a wrong SASL password stops a service at start with a message naming the setting', async () => {
    writeFileSync(join(dir, 'wrong-password'), 'not-the-password\n');
    const svc = spawnTsx('services/handshake/src/main.ts', { KAFKA_SASL_PASSWORD_FILE: join(dir, 'wrong-password'), SCHEMA_REGISTRY_URL: env['SCHEMA_REGISTRY_URL'] ?? '' });
    const code = await svc.exited;
    expect(code).toBe(1);
    expect(svc.output()).toContain('Kafka refused the SASL credentials');
    expect(svc.output()).toContain(`KAFKA_SASL_PASSWORD_FILE=${join(dir, 'wrong-password')}`);
    expect(svc.output()).toContain(`KAFKA_SASL_USERNAME=${USER}`);
    expect(svc.output()).not.toContain('not-the-password');
    expect(svc.output()).not.toContain(PASSWORD);
  });

  it('OAUTHBEARER takes its token from a file or from a provider module', async () => {
    // An unsigned JWT (alg none), which the test broker's default validator accepts.
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = (): string => `${b64({ alg: 'none' })}.${b64({ sub: 'preflight-oauth', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    writeFileSync(join(dir, 'oauth-token'), token());
    writeFileSync(join(dir, 'oauth-provider.mjs'), `export default async () => ({ value: ${JSON.stringify(token())} });\n`);
    const oauth = { ...env, KAFKA_SASL_MECHANISM: 'OAUTHBEARER', KAFKA_SASL_USERNAME: '', KAFKA_SASL_PASSWORD_FILE: '' };
    for (const source of [{ KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: join(dir, 'oauth-token') }, { KAFKA_SASL_OAUTHBEARER_PROVIDER: join(dir, 'oauth-provider.mjs') }]) {
      const { config } = loadBusConfig('oauth-test', { ...oauth, ...source });
      const admin = createKafka(config, testLogger('oauth'), { retry: { retries: 1 } }).admin();
      await admin.connect();
      expect(await admin.listTopics()).toContain('_schemas');
      await admin.disconnect();
    }
    // A token the broker rejects (not a JWT): the failure names the token's setting.
    writeFileSync(join(dir, 'oauth-token'), 'not-a-token');
    const { config } = loadBusConfig('oauth-test', { ...oauth, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: join(dir, 'oauth-token') });
    const admin = createKafka(config, testLogger('oauth'), { retry: { retries: 0 } }).admin();
    // kafkajs reads the broker's OAUTHBEARER error challenge as success; the broker then closes
    // the connection at the first request.
    const failure = await admin.connect().then(() => admin.listTopics()).then(() => undefined, (e: unknown) => e);
    await admin.disconnect();
    expect(failure).toBeInstanceOf(Error);
    expect(explainKafkaFailure(failure, config).message).toContain('an OAUTHBEARER token the broker rejects');
    expect(explainKafkaFailure(failure, config).message).toContain(`KAFKA_SASL_OAUTHBEARER_TOKEN_FILE=${join(dir, 'oauth-token')}`);
  });

  it('a plaintext client is refused by the broker', async () => {
    const plain = new Kafka({ clientId: 'plaintext', brokers: [kafka.brokers], logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 0 } });
    const admin = plain.admin();
    await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow();
    await admin.disconnect();
    // And TLS without the client certificate the listener requires is refused too.
    const noCert = new Kafka({
      clientId: 'no-client-cert',
      brokers: [kafka.brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      retry: { retries: 0 },
      ssl: { ca: [readFileSync(pki.caCert, 'utf8')] },
      sasl: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD },
    });
    const admin2 = noCert.admin();
    await expect(admin2.connect().then(() => admin2.listTopics())).rejects.toThrow();
    await admin2.disconnect();
  });

  it('every bad setting is listed at once, before any connection', async () => {
    const svc = spawnTsx('services/readiness/src/main.ts', {
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-1',
      KAFKA_SSL_CA_FILE: join(dir, 'missing-ca.pem'),
      KAFKA_SASL_PASWORD_FILE: join(dir, 'kafka-password'),
      KAFKA_SASL_PASSWORD: 'inline-secret-value-42',
    });
    expect(await svc.exited).toBe(2);
    const out = svc.output();
    expect(out).toContain('KAFKA_SASL_MECHANISM: must be one of');
    expect(out).toContain(`KAFKA_SSL_CA_FILE: cannot read ${join(dir, 'missing-ca.pem')}`);
    expect(out).toContain('KAFKA_SASL_PASWORD_FILE: unknown variable; did you mean KAFKA_SASL_PASSWORD_FILE?');
    expect(out).toContain('KAFKA_SASL_PASSWORD: secrets are read only from files');
    expect(out).not.toContain('inline-secret-value-42');
  });
});
