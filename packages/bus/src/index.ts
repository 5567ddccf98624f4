export { busConfigFromEnv, createKafka, type BusConfig } from './config.js';
export { EventCodec } from './codec.js';
export { EventProducer, type EventProducerOptions } from './producer.js';
export { EventConsumer, type EventConsumerOptions, type Handlers, type MessageMeta, type RetryPolicy, type ConsumerStats } from './consumer.js';
export { MemoryDedupeStore, FileDedupeStore, type DedupeStore } from './dedupe.js';
export { platformTopics, ensureTopics, type TopicSpec } from './topics.js';
export { cloudEventHeaders, headerString } from './headers.js';
export { createBus, onShutdown, runServiceMain, type Bus } from './bus.js';
export { retryRetriable } from './retry.js';
