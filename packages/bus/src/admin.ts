import type { Admin } from 'kafkajs';
import { retryRetriable } from './retry.js';

export interface PartitionOffsets {
  partition: number;
  /** The first offset still in the log. */
  low: string;
  /** The log end offset: the next one to be written. */
  high: string;
}

export interface GroupTopicOffsets {
  topic: string;
  /** `-1` for a partition the group never committed. */
  partitions: Array<{ partition: number; offset: string }>;
}

/** What the platform asks of the cluster about its topics and groups; nothing that changes them. */
export interface TopicAdmin {
  topicNames(): Promise<string[]>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  groupOffsets(groupId: string, topics: string[]): Promise<GroupTopicOffsets[]>;
}

export function topicAdmin(admin: Admin): TopicAdmin {
  return {
    topicNames: () => admin.listTopics(),
    topicOffsets: async (topic) => (await retryRetriable(() => admin.fetchTopicOffsets(topic))).map((p) => ({ partition: p.partition, low: p.low, high: p.high })),
    groupOffsets: async (groupId, topics) => (await admin.fetchOffsets({ groupId, topics })).map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })) })),
  };
}

/** A `TopicAdmin` on one connection the caller keeps open (a view refreshed in the background). */
export interface TopicAdminClient extends TopicAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export function topicAdminClient(admin: Admin): TopicAdminClient {
  return { ...topicAdmin(admin), connect: () => admin.connect(), disconnect: () => admin.disconnect() };
}
