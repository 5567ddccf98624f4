// Profiling aid: one path of bench:bus alone, so a --cpu-prof of it is that path's profile.
// PROF=produce (default): 20,000 events in batches of 500; PROF=consume: then consume them with
// eight keys at once per partition, as the services do (docs/performance.md, Profiling).
// PROF_PREFIX=<p> names the topics, so PROF_PRODUCE=0 PROF=consume profiles only consuming what an
// earlier PROF=produce run with the same prefix wrote.
import { randomBytes } from 'node:crypto';
import { createBus } from '@preflight/bus';
import { createLogger } from '@preflight/core';
import { newEvent, sampleEvents } from '@preflight/events';
import { benchInfra } from './env.js';
const N = Number(process.env['BENCH_N'] ?? 20_000);
const infra = await benchInfra();
const bus = createBus({ brokers: [infra.brokers], schemaRegistryUrl: infra.registryUrl, topicPrefix: process.env['PROF_PREFIX'] ?? `prof${randomBytes(4).toString('hex')}.`, clientId: 'prof' }, createLogger({ service: 'prof', level: 'warn' }));
await bus.ensureTopics(3);
await bus.producer.start();
const sample = sampleEvents()['connector.registered'];
const evs = Array.from({ length: N }, (_, i) => newEvent('connector.registered', { spec: sample.spec, autoPreflight: false }, { producer: 'bench@1', tenantId: 't', connectorId: `c${i % 64}`, correlationId: `p-${i}`, actor: 'system:bench' }));
for (let r = 0; r < (process.env['PROF_PRODUCE'] === '0' ? 0 : 2); r++) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < N; i += 500) await bus.producer.publish(...evs.slice(i, i + 500));
  const u = process.cpuUsage(cpu);
  console.log(`round ${r}: ${((u.user + u.system) / N).toFixed(1)} CPU µs/event`);
}
if (process.env['PROF'] === 'consume') {
  for (let r = 0; r < 2; r++) {
    let n = 0;
    let done!: () => void;
    const finished = new Promise<void>((res) => (done = res));
    const cpu = process.cpuUsage();
    const c = bus.consumer({ groupId: `prof-consume-${r}-${randomBytes(3).toString('hex')}`, partitionsConsumedConcurrently: 3, keyConcurrency: 8, handlers: { 'connector.registered': async () => { if (++n === N) done(); } } });
    await c.start();
    await finished;
    const u = process.cpuUsage(cpu);
    console.log(`consume round ${r}: ${((u.user + u.system) / N).toFixed(1)} CPU µs/event (start included; the two produce rounds repeat event ids, so N are handled)`);
    await c.stop();
  }
}
await bus.producer.stop();
await infra.stop();
process.exit(0);
