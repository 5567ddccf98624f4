// A consumer in its own process, so a test can SIGKILL it mid-batch like a real crash.
import { appendFileSync } from 'node:fs';
import { loadBusConfig, createBus, FileDedupeStore, onShutdown } from '../index.js';
import { createLogger } from '@preflight/core';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`missing env ${k}`);
  return v;
};
const logger = createLogger({ service: 'crash-consumer', level: 'warn' });
const { config, process: settings } = loadBusConfig('crash-consumer');
const bus = createBus({ ...config, topicPrefix: env('PREFIX') }, logger, { process: settings });
const delay = Number(process.env['DELAY_MS'] ?? '10');
const consumer = bus.consumer({
  groupId: env('GROUP'),
  keyConcurrency: Number(process.env['KEY_CONCURRENCY'] ?? '1'),
  dedupe: new FileDedupeStore(env('DEDUPE_FILE')),
  handlers: {
    'connector.registered': async (e) => {
      await new Promise((r) => setTimeout(r, delay));
      appendFileSync(env('EFFECTS_FILE'), `${e.eventId}\n`);
    },
  },
});
onShutdown(async () => {
  await consumer.stop();
  process.stdout.write(JSON.stringify(consumer.stats) + '\n');
}, logger, settings.shutdownDeadlineMs);
await consumer.start();
process.stdout.write('started\n');
