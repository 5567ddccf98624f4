import { testBusConfig, testLogger } from '@preflight/testkit';
import { createBus, type Bus } from '../index.js';

/** A bus on fresh random topics (created), with its producer started. */
export async function testBus(options: { partitions?: number } = {}): Promise<Bus> {
  const bus = createBus(testBusConfig(), testLogger());
  await bus.ensureTopics(options.partitions ?? 3);
  await bus.producer.start();
  return bus;
}
