export { freePort, portOpen, waitFor } from './net.js';
export { repoRoot, dataRoot } from './paths.js';
export { startKafka, ensureKafkaJars, cleanTmpKafka, KAFKA_VERSION, type KafkaHandle, type KafkaOptions, type SaslSslOptions, type ScramUser } from './kafka.js';
export { makeTestPki, type TestPki } from './tls.js';
export { startPostgres, startMariadb, type DbServerHandle, type DbServerOptions } from './db.js';
export { isRunning, stopChildren } from './processes.js';
export { startKafkaCluster, type KafkaCluster, type KafkaClusterOptions, type KafkaNode } from './cluster.js';
