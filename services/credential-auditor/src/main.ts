import { busConfigFromEnv, createBus, onShutdown } from '@preflight/bus';
import { createLogger, initTelemetry } from '@preflight/core';
import { SERVICE_NAME, SERVICE_VERSION } from './judge.js';
import { startCredentialAuditorService } from './service.js';

initTelemetry();
const logger = createLogger({ service: SERVICE_NAME, version: SERVICE_VERSION });
const bus = createBus(busConfigFromEnv(SERVICE_NAME), logger);
await bus.ensureTopics();
const service = await startCredentialAuditorService({ bus, logger });
onShutdown(async () => {
  await service.stop();
  await bus.stop();
}, logger);
