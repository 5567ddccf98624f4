import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs';
import { PreflightError } from '@preflight/core';
import { EVENT_TYPES, type Topics } from '@preflight/events';
import { NotReadyError, retryRetriable } from './retry.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Kafka topic configs, e.g. retention.ms, cleanup.policy. */
  config: Record<string, string>;
  /** Copies of each partition; -1 leaves it to the broker's default. */
  replicationFactor?: number;
}

/** Durability of every platform topic: how many copies, and how many must have a write before it is acknowledged. */
export interface TopicDurability {
  replicationFactor: number;
  minInsyncReplicas: number;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new PreflightError('CONFIG', `${name} must be a whole number of at least 1, got ${JSON.stringify(raw)}`, { retriable: false });
  return n;
}

/**
 * KAFKA_REPLICATION_FACTOR and KAFKA_MIN_INSYNC_REPLICAS, else what fits the cluster: 3 copies
 * with 2 in sync on three or more brokers (one broker may be down without losing a write or
 * stopping producers), 1/1 on a single local broker.
 */
export function topicDurability(brokers: number, env: NodeJS.ProcessEnv = {}): TopicDurability {
  const replicationFactor = wholeNumber(env, 'KAFKA_REPLICATION_FACTOR') ?? (brokers >= 3 ? 3 : 1);
  const minInsyncReplicas = wholeNumber(env, 'KAFKA_MIN_INSYNC_REPLICAS') ?? (replicationFactor >= 3 ? 2 : 1);
  if (minInsyncReplicas > replicationFactor) {
    throw new PreflightError('CONFIG', `KAFKA_MIN_INSYNC_REPLICAS=${minInsyncReplicas} is more than KAFKA_REPLICATION_FACTOR=${replicationFactor}: no write could ever be acknowledged`, { retriable: false });
  }
  if (replicationFactor > brokers) {
    throw new PreflightError('CONFIG', `KAFKA_REPLICATION_FACTOR=${replicationFactor} needs at least ${replicationFactor} brokers; the cluster has ${brokers}`, { retriable: false });
  }
  return { replicationFactor, minInsyncReplicas };
}

/** The same specs with the durability applied to every topic. */
export function withDurability(specs: TopicSpec[], d: TopicDurability): TopicSpec[] {
  return specs.map((s) => ({ ...s, replicationFactor: d.replicationFactor, config: { ...s.config, 'min.insync.replicas': String(d.minInsyncReplicas) } }));
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The platform's topics, declared once. Event topics keep 7 days (replay for rebuilds and late
 * consumers); dead-letter topics keep 30 days so a person has time to look; the state topic is
 * compacted because only the latest snapshot per connector matters.
 */
export function platformTopics(topics: Topics, partitions = 6): TopicSpec[] {
  const specs: TopicSpec[] = [];
  for (const type of EVENT_TYPES) {
    const topic = topics.of(type);
    specs.push({ topic, partitions, config: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) } });
    specs.push({ topic: topics.dlq(topic), partitions: 1, config: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) } });
  }
  specs.push({
    topic: topics.state,
    partitions,
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(60 * 60 * 1000) },
  });
  // Readiness's attempts in flight: the same partition count as the inputs, because each record
  // lives on its attempt's input partition. Segments roll often so compaction keeps a restore
  // close to the open attempts rather than to the last hour of updates.
  specs.push({
    topic: topics.attempts,
    partitions,
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0', 'segment.ms': String(5 * 60 * 1000), 'min.cleanable.dirty.ratio': '0.1' },
  });
  // Snapshot records the projector cannot decode are set aside here instead of blocking its start.
  specs.push({ topic: topics.dlq(topics.state), partitions: 1, config: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) } });
  return specs;
}

/** Creates what is missing; leaves existing topics alone but fails if one has fewer partitions than declared. */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<{ created: string[]; existing: string[] }> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    const configs: ITopicConfig[] = missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.partitions,
      replicationFactor: s.replicationFactor ?? -1,
      configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
    }));
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ topics: configs, waitForLeaders: true });
        break;
      } catch (e) {
        // Another service may have created the same topics a moment ago; that is fine. Right after
        // creation the metadata can lag behind ("does not host this topic-partition"): retry.
        const err = e as Error & { retriable?: boolean };
        if (/already exists/i.test(err.message)) break;
        if (!err.retriable || attempt >= 8) throw new PreflightError('BUS', `creating topics failed: ${err.message}`, { cause: e });
        await new Promise((r) => setTimeout(r, 100 * attempt));
        const now = new Set(await admin.listTopics());
        if (missing.every((s) => now.has(s.topic))) break;
      }
    }
  }
  if (missing.length > 0) {
    // Return only once every new partition has a leader, so the first produce or offset
    // lookup does not race the controller.
    await retryRetriable(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: missing.map((s) => s.topic) });
      const leaderless = meta.topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}:${p.partitionId}`));
      if (leaderless.length) throw new NotReadyError(`partitions without a leader yet: ${leaderless.slice(0, 5).join(', ')}`);
    });
  }
  const present = specs.filter((s) => existing.has(s.topic));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
    for (const t of meta.topics) {
      const spec = present.find((s) => s.topic === t.name);
      if (spec && t.partitions.length < spec.partitions) {
        throw new PreflightError('CONFIG', `topic ${t.name} has ${t.partitions.length} partitions, declared ${spec.partitions}`, { retriable: false });
      }
      const copies = Math.min(...t.partitions.map((p) => p.replicas.length));
      if (spec?.replicationFactor !== undefined && spec.replicationFactor > 0 && copies < spec.replicationFactor) {
        throw new PreflightError('CONFIG', `topic ${t.name} has ${copies} replica(s) per partition, declared replication factor ${spec.replicationFactor}: reassign its partitions or lower KAFKA_REPLICATION_FACTOR`, { retriable: false });
      }
    }
    const declared = present.filter((s) => s.config['min.insync.replicas'] !== undefined);
    if (declared.length > 0) {
      const { resources } = await admin.describeConfigs({ resources: declared.map((s) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name: s.topic, configNames: ['min.insync.replicas'] })), includeSynonyms: false });
      for (const r of resources) {
        const actual = Number(r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue ?? '1');
        const want = Number(declared.find((s) => s.topic === r.resourceName)!.config['min.insync.replicas']);
        if (actual < want) {
          throw new PreflightError('CONFIG', `topic ${r.resourceName} has min.insync.replicas=${actual}, declared ${want}: an acknowledged write could be lost with one broker; raise it with kafka-configs or lower KAFKA_MIN_INSYNC_REPLICAS`, { retriable: false });
        }
      }
    }
  }
  return { created: missing.map((s) => s.topic), existing: present.map((s) => s.topic) };
}
