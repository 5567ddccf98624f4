// A consumer in its own process, so a test can SIGKILL it mid-batch like a real crash.
import { appendFileSync } from 'node:fs';
import { loadBusConfig, createBus, FileDedupeStore, onShutdown } from '../index.js';
import { createLogger } from '@preflight/core';
import { causedBy, newEvent, payloadOf, sampleEvents } from '@preflight/events';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`missing env ${k}`);
  return v;
};
const logger = createLogger({ service: 'crash-consumer', level: 'warn' });
const { config, process: settings } = loadBusConfig('crash-consumer');
const bus = createBus({ ...config, topicPrefix: env('PREFIX') }, logger, { process: settings });
const delay = Number(process.env['DELAY_MS'] ?? '10');
// OUTPUTS=1: each handled registration is answered with a handshake whose id derives from it, as
// the pipeline services do, and the consumer is told so (durable dedupe through the log).
const outputs = process.env['OUTPUTS'] === '1';
const answer = payloadOf(sampleEvents()['connector.handshake']);
if (outputs) await bus.producer.start();
let answered = 0;
const consumer = bus.consumer({
  groupId: env('GROUP'),
  keyConcurrency: Number(process.env['KEY_CONCURRENCY'] ?? '1'),
  ...(process.env['DEDUPE_FILE'] ? { dedupe: new FileDedupeStore(env('DEDUPE_FILE')) } : {}),
  ...(outputs ? { outputs: ['connector.handshake'] as const } : {}),
  handlers: {
    'connector.registered': async (e) => {
      await new Promise((r) => setTimeout(r, delay));
      appendFileSync(env('EFFECTS_FILE'), `${e.eventId}\n`);
      if (outputs) {
        await bus.producer.publish(newEvent('connector.handshake', answer, causedBy(e, 'crash-consumer@1', { outputType: 'connector.handshake' })));
        // Published but not yet committed: the window durable dedupe closes. CRASH_AFTER=n dies in it.
        if (++answered === Number(process.env['CRASH_AFTER'] ?? '0')) process.kill(process.pid, 'SIGKILL');
      }
    },
  },
});
onShutdown(async () => {
  await consumer.stop();
  process.stdout.write(JSON.stringify({ ...consumer.stats, outputs: consumer.outputStats }) + '\n');
}, logger, settings.shutdownDeadlineMs);
await consumer.start();
process.stdout.write('started\n');
