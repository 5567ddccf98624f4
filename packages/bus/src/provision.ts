// `node packages/bus/dist/provision.js` (the image's `provision-topics` command, the Helm chart's
// Job): creates every declared topic that is missing, with TOPIC_PARTITIONS partitions and the
// cluster's default replication factor, then exits. Services create missing topics at start too;
// this lets production run them with credentials that may describe topics but not create them.
import { createLogger } from '@preflight/core';
import { topicsFor } from '@preflight/events';
import { loadedBusConfigOrExit } from './bus.js';
import { createKafka, explainKafkaFailure } from './config.js';
import { ensureTopics, platformTopics } from './topics.js';

const logger = createLogger({ service: 'provision-topics', version: '0.1.0' });
const { config, process: settings } = loadedBusConfigOrExit('provision-topics', logger);
const partitions = settings.topicPartitions;
const admin = createKafka(config, logger).admin();
try {
  await admin.connect();
  const { created, existing } = await ensureTopics(admin, platformTopics(topicsFor(config.topicPrefix), partitions));
  logger.info({ created, existing: existing.length }, `topics ready: ${created.length} created, ${existing.length} already there`);
  process.stdout.write(`provision-topics: ${created.length} created, ${existing.length} already there\n`);
} catch (e) {
  const why = e instanceof Error && 'code' in e && (e as { code: unknown }).code === 'CONFIG' ? (e as Error) : explainKafkaFailure(e, config);
  process.stderr.write(`provision-topics: ${why.message}\n`);
  process.exitCode = 1;
} finally {
  await admin.disconnect();
}
