import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { createBus, type Bus } from '@preflight/bus';
import { createLogger, initTelemetry, type Logger } from '@preflight/core';
import { newEvent, type ConnectorEvent, type ConnectorRegistered, type ConnectorSpec, type EventType } from '@preflight/events';
import { freePort, startPostgres, type DbServerHandle } from '@preflight/local-infra';
import { collectRaw, eventually, testBusConfig } from '@preflight/testkit';
import { startHandshakeService } from '@preflight/handshake';
import { startSchemaValidatorService, WebhookIncidentSink } from '@preflight/schema-validator';
import { startCredentialAuditorService } from '@preflight/credential-auditor';
import { startReadinessService } from '@preflight/readiness';

/** One PostgreSQL for the whole file: starting it is the slow part, and scenarios own their tables. */
let pgPromise: Promise<{ pg: DbServerHandle; readerPassword: string; adminPassword: string }> | undefined;

export async function stopSharedPostgres(): Promise<void> {
  const p = pgPromise;
  pgPromise = undefined;
  if (p) await (await p).pg.stop();
}

export function sharedPostgres(): Promise<{ pg: DbServerHandle; readerPassword: string; adminPassword: string }> {
  pgPromise ??= (async () => {
    const pg = await startPostgres();
    const readerPassword = `rd-${randomBytes(8).toString('hex')}`;
    const adminPassword = `ad-${randomBytes(8).toString('hex')}`;
    await pg.exec(`CREATE ROLE pf_reader LOGIN PASSWORD '${readerPassword}'`);
    await pg.exec(`CREATE ROLE pf_admin LOGIN SUPERUSER PASSWORD '${adminPassword}'`);
    await pg.exec(`CREATE DATABASE erp`);
    return { pg, readerPassword, adminPassword };
  })();
  return pgPromise;
}

export const SERVICES = ['handshake', 'schema-validator', 'credential-auditor', 'readiness'] as const;

export interface World {
  bus: Bus;
  logger: Logger;
  logLines: string[];
  events: ConnectorEvent[];
  incidentsReceived: Array<Record<string, unknown>>;
  down: Set<string>;
  preflightTimeoutMs: number;
  tenantId: string;
  connectorId: string;
  correlationId: string;
  table: string;
  spec?: ConnectorSpec;
  registration?: ConnectorRegistered;
  secrets: string[];
  started: boolean;
  stops: Array<() => Promise<void>>;
}

export function contractYaml(table: string, extraRequiredField?: string): string {
  return `apiVersion: v3.1.0
kind: DataContract
id: crm-customers
version: 1.2.0
status: active
name: CRM customers
customProperties:
  - property: unexpectedFields
    value: allow
schema:
  - name: customers
    physicalName: ${table}
    logicalType: object
    properties:
      - name: id
        logicalType: integer
        required: true
        primaryKey: true
      - name: email
        logicalType: string
        classification: pii
        quality:
          - metric: nullValues
            mustBe: 0
      - name: country
        logicalType: string
        quality:
          - metric: nullValues
            mustBe: 0
          - metric: invalidValues
            arguments:
              validValues: [DE, FR, NL, US]
            mustBe: 0
      - name: created_at
        logicalType: timestamp
${extraRequiredField ? `      - name: ${extraRequiredField}\n        logicalType: string\n        required: true\n` : ''}    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
`;
}

export async function newWorld(): Promise<World> {
  initTelemetry();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ service: 'e2e', level: 'info', destination: sink });
  const bus = createBus(testBusConfig(undefined, 'e2e'), logger);
  await bus.ensureTopics(3);
  await bus.producer.start();
  const world: World = {
    bus,
    logger,
    logLines,
    events: [],
    incidentsReceived: [],
    down: new Set(),
    preflightTimeoutMs: 30_000,
    tenantId: 'tenant-e2e',
    connectorId: `crm-${randomBytes(4).toString('hex')}`,
    correlationId: randomUUID(),
    table: `customers_${randomBytes(4).toString('hex')}`,
    secrets: [],
    started: false,
    stops: [],
  };
  const collector = await collectRaw(bus.kafka, bus.topics.all());
  const decoded = new Set<unknown>();
  const timer = setInterval(() => {
    for (const r of collector.records) {
      if (decoded.has(r)) continue;
      decoded.add(r);
      const type = bus.topics.typeOf(r.topic) as EventType;
      void bus.codec.decode(r.message.value, type).then((e) => world.events.push(e)).catch(() => undefined);
    }
  }, 50);
  world.stops.push(async () => {
    clearInterval(timer);
    await collector.stop();
  });
  return world;
}

/** Starts the pipeline services (all but the ones marked down) against the world's topics. */
export async function startServices(world: World): Promise<void> {
  if (world.started) return;
  world.started = true;
  const receiver: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      world.incidentsReceived.push({ ...(JSON.parse(body) as Record<string, unknown>), idempotencyKeyHeader: req.headers['idempotency-key'] });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
  world.stops.push(() => new Promise<void>((r) => receiver.close(() => r())));
  const { bus, logger } = world;
  const starters: Record<(typeof SERVICES)[number], () => Promise<{ stop(): Promise<void> }>> = {
    handshake: () => startHandshakeService({ bus, logger: logger.child({ service: 'handshake' }) }),
    'schema-validator': () =>
      startSchemaValidatorService({ bus, logger: logger.child({ service: 'schema-validator' }), incidentSink: new WebhookIncidentSink(`http://127.0.0.1:${port}/incidents`, logger) }),
    'credential-auditor': () => startCredentialAuditorService({ bus, logger: logger.child({ service: 'credential-auditor' }) }),
    readiness: () => startReadinessService({ bus, logger: logger.child({ service: 'readiness' }), settings: { preflightTimeoutMs: world.preflightTimeoutMs } }),
  };
  for (const name of SERVICES) {
    if (world.down.has(name)) continue;
    const s = await starters[name]();
    world.stops.unshift(() => s.stop());
  }
}

export async function disposeWorld(world: World): Promise<void> {
  for (const stop of world.stops) await stop().catch(() => undefined);
  await world.bus.stop();
}

export function registration(world: World, spec: ConnectorSpec, autoPreflight = false): ConnectorRegistered {
  return newEvent('connector.registered', { spec, autoPreflight }, {
    producer: 'upstream-crm@1.0.0',
    tenantId: world.tenantId,
    connectorId: world.connectorId,
    correlationId: world.correlationId,
    actor: 'system:upstream-crm',
  });
}

export function eventsOf<T extends EventType>(world: World, type: T): Array<Extract<ConnectorEvent, { eventType: T }>> {
  return world.events.filter((e): e is Extract<ConnectorEvent, { eventType: T }> => e.eventType === type && e.correlationId === world.correlationId);
}

export function waitForEvent<T extends EventType>(world: World, type: T, timeoutMs = 60_000): Promise<Extract<ConnectorEvent, { eventType: T }>> {
  return eventually(`${type} for attempt ${world.correlationId}`, () => eventsOf(world, type)[0], { timeoutMs });
}
