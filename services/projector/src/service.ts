import type { ServiceBus } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { serviceGroupId } from '@preflight/events';
import { scopesFromEnv, withPlatformEndpoints, Scopes } from '@preflight/connectors';
import { Authenticator, type AuthConfig } from '@preflight/auth';
import { buildApi } from './http.js';
import { projectorAuthConfig, projectorConfig, type ProjectorConfig } from './config.js';
import { createPrometheus } from './prometheus.js';
import { ProjectorRunner } from './runner.js';
import { DeadLetterCounter, TopicStats } from './topics.js';

export interface ProjectorServiceOptions {
  bus: ServiceBus;
  logger: Logger;
  http?: { host?: string; port?: number };
  auth?: AuthConfig;
  groupId?: string;
  operationTimeoutMs?: number;
  snapshotEveryMs?: number;
  /** Registration checks secrets, addresses and paths in the tenant's scope; defaults to the environment's policy. */
  scopes?: Scopes;
  /** This replica's name when several projectors each serve the full read model (PROJECTOR_INSTANCE). */
  instance?: string;
  /** Awaited before each batch is folded (tests). */
  beforeBatch?: () => Promise<void>;
  /** The projector's settings, read once at start (main passes them); the options above win over them. */
  config?: ProjectorConfig;
}

export interface ProjectorService {
  url: string;
  runner: ProjectorRunner;
  stop(): Promise<void>;
}

/** The read side in one process: the fold, the HTTP API, the dashboard and /metrics. */
export async function startProjectorService(options: ProjectorServiceOptions): Promise<ProjectorService> {
  const { bus, logger } = options;
  await bus.producer.start();
  const config = options.config ?? projectorConfig();
  const instance = options.instance ?? config.instance;
  const operationTimeoutMs = options.operationTimeoutMs ?? config.operationTimeoutMs;
  const host = options.http?.host ?? config.http.host;
  const runner = new ProjectorRunner({
    bus,
    logger,
    instance,
    operationTimeoutMs,
    ...(options.groupId ? { groupId: options.groupId } : {}),
    ...(options.snapshotEveryMs ? { snapshotEveryMs: options.snapshotEveryMs } : {}),
    ...(options.beforeBatch ? { beforeBatch: options.beforeBatch } : {}),
  });
  await runner.start();
  // Each replica counts on its own (nothing committed), under its own group.
  const deadLetters = new DeadLetterCounter(bus, bus.topics, serviceGroupId(bus.topics.prefix, 'projector.dead-letters', instance));
  await deadLetters.start();
  const topics = new TopicStats(bus, bus.topics, deadLetters);
  await topics.start();
  const prometheus = createPrometheus(() => runner.projection, topics);
  const configured = options.scopes ?? scopesFromEnv({ brokers: bus.config.brokers, registryUrl: bus.config.schemaRegistryUrl });
  // The API's own port is known only once it listens; until then the configured policy applies.
  let scopes = configured;
  const app = await buildApi({
    scopes: () => scopes,
    projection: () => runner.projection,
    auth: new Authenticator(options.auth ?? projectorAuthConfig()),
    publish: (...events) => bus.producer.publish(...events),
    topics,
    prometheus,
    ready: () => runner.caughtUp(),
    rebuild: () => runner.rebuild(),
    operationTimeoutMs,
    mcp: { allowedOrigins: config.mcpAllowedOrigins, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}) },
    logger,
  });
  const expiry = setInterval(() => runner.projection.expireOperations(new Date()), 500);
  await app.listen({ host, port: options.http?.port ?? config.http.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.http?.port ?? config.http.port);
  const url = `http://${host}:${port}`;
  scopes = new Scopes(withPlatformEndpoints(configured.policy, [{ host, port, what: 'API' }]));
  logger.info({ url }, 'projector API and dashboard listening');
  return {
    url,
    runner,
    stop: async () => {
      clearInterval(expiry);
      await app.close();
      await prometheus.shutdown();
      await topics.stop();
      await deadLetters.stop();
      await runner.stop();
    },
  };
}
