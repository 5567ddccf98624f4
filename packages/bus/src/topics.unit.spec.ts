import { describe, expect, it } from 'vitest';
import { topicsFor } from '@preflight/events';
import { platformTopics, topicDurability, withDurability } from './topics.js';

describe('topic durability as code', () => {
  it('fits the cluster when not configured: 1/1 on one broker, 3/2 on three or more', () => {
    expect(topicDurability(1, {})).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(topicDurability(3, {})).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(topicDurability(5, { KAFKA_REPLICATION_FACTOR: '2' })).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
  });

  it('rejects settings the cluster cannot meet, naming the variable and the value', () => {
    expect(() => topicDurability(1, { KAFKA_REPLICATION_FACTOR: '3' })).toThrow('KAFKA_REPLICATION_FACTOR=3 needs at least 3 brokers; the cluster has 1');
    expect(() => topicDurability(3, { KAFKA_MIN_INSYNC_REPLICAS: '4' })).toThrow('KAFKA_MIN_INSYNC_REPLICAS=4 is more than KAFKA_REPLICATION_FACTOR=3');
    expect(() => topicDurability(3, { KAFKA_REPLICATION_FACTOR: 'three' })).toThrow('KAFKA_REPLICATION_FACTOR must be a whole number of at least 1, got "three"');
  });

  it('applies to every platform topic, the compacted state topic and the dead-letter topics included', () => {
    const specs = withDurability(platformTopics(topicsFor('x.'), 6), { replicationFactor: 3, minInsyncReplicas: 2 });
    expect(specs.length).toBeGreaterThan(10);
    for (const s of specs) {
      expect(s.replicationFactor).toBe(3);
      expect(s.config['min.insync.replicas']).toBe('2');
    }
    expect(specs.find((s) => s.topic === 'x.connector.state')?.config['cleanup.policy']).toBe('compact');
    expect(specs.some((s) => s.topic === 'x.connector.state.dlq')).toBe(true);
  });
});
