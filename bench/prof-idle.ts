// Profiling aid: the whole platform in one process (the four step services, the projector and its
// API), idle; after a warm-up, a CPU profile of PROF_IDLE_MS (8 s) of doing nothing is written to
// PROF_OUT (/tmp/idle.cpuprofile). What `npm run bench` reports as "CPU ms per second of the idle
// platform", taken apart (docs/performance.md).
import { Session } from 'node:inspector/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { devScopes } from '@preflight/connectors';
import { startProjectorService } from '@preflight/projector';
import { benchInfra } from './env.js';
import { startStepServices } from './platform.js';

const infra = await benchInfra();
const logger = createLogger({ service: 'prof-idle', level: 'error' });
const root = mkdtempSync(join(tmpdir(), 'prof-idle-'));
const scopes = devScopes({ filesRoot: root, secretsRoot: root });
const bus = createBus({ brokers: [infra.brokers], schemaRegistryUrl: infra.registryUrl, topicPrefix: `idle${randomBytes(4).toString('hex')}.`, clientId: 'prof-idle' }, logger);
await bus.ensureTopics(6);
await bus.producer.start();
const stops = [
  ...(await startStepServices(bus, logger, scopes)),
  await startProjectorService({ bus, logger, scopes, http: { port: 0 }, auth: { mode: 'hs256', secret: randomBytes(16).toString('hex') } }),
];
await new Promise((r) => setTimeout(r, 5_000));
const ms = Number(process.env['PROF_IDLE_MS'] ?? 8_000);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const cpu = process.cpuUsage();
await new Promise((r) => setTimeout(r, ms));
const used = process.cpuUsage(cpu);
const { profile } = await session.post('Profiler.stop');
const out = process.env['PROF_OUT'] ?? '/tmp/idle.cpuprofile';
writeFileSync(out, JSON.stringify(profile));
console.log(`idle platform: ${((used.user + used.system) / 1000 / (ms / 1000)).toFixed(0)} ms of CPU per second; profile in ${out}`);
for (const s of stops) await s.stop();
await bus.producer.stop();
await infra.stop();
process.exit(0);
