export {
  busConfigFromEnv,
  loadBusConfig,
  createKafka,
  kafkaClientSecurity,
  explainKafkaFailure,
  schemaRegistryClientArgs,
  ConfigError,
  SECURITY_PROTOCOLS,
  SASL_MECHANISMS,
  type BusConfig,
  SettingsReader,
  type LoadedBusConfig,
  type ProcessSettings,
  type KafkaSecurity,
  type RegistryClientOptions,
  type SecurityProtocol,
} from './config.js';
export { SETTINGS, KNOWN_NAMES, OWNED_PREFIXES, unknownVariables, type SettingSpec, type UnknownVariable } from './settings.js';
export { serveHealth, healthReport, trackConsumer, type HealthReport, type ConsumerHealth, type ConsumerState } from './health.js';
export { EventCodec } from './codec.js';
export { EventProducer, type EventProducerOptions } from './producer.js';
export { EventConsumer, keepAlive, type EventConsumerOptions, type Handlers, type MessageMeta, type RetryPolicy, type ConsumerStats } from './consumer.js';
export { MemoryDedupeStore, FileDedupeStore, type DedupeStore } from './dedupe.js';
export { platformTopics, ensureTopics, topicDurability, withDurability, type TopicSpec, type TopicDurability } from './topics.js';
export { cloudEventHeaders, headerString } from './headers.js';
export { createBus, onShutdown, runServiceMain, busConfigOrExit, loadedBusConfigOrExit, type Bus, type ServiceBus } from './bus.js';
export { CompactedTopic, type CompactedRecord } from './compacted.js';
export { deadLetterMessage, type DeadLetterSource } from './dead-letter.js';
export { type Tail, type TailBatch, type TailOptions, type TailRecord } from './tail.js';
export { type TopicAdmin, type TopicAdminClient, type PartitionOffsets, type GroupTopicOffsets } from './admin.js';
export { retryRetriable } from './retry.js';
export { groupHasCommitted, readTopics, type ReadTopicsOptions, type RawRecordHandler } from './reader.js';
export { DEFAULT_TAKEOVER_GRACE_MS, groupTimings, timingsFor, shutdownDeadlineMs, type GroupTimings } from './group.js';
export { startConsumerService, type ServiceOptions } from './service.js';
export { publishPersistently } from './persistent.js';
