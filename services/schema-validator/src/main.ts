import { busConfigFromEnv, createBus, onShutdown } from '@preflight/bus';
import { createLogger, initTelemetry } from '@preflight/core';
import { SERVICE_NAME, SERVICE_VERSION } from './decide.js';
import { startSchemaValidatorService } from './service.js';

initTelemetry();
const logger = createLogger({ service: SERVICE_NAME, version: SERVICE_VERSION });
const bus = createBus(busConfigFromEnv(SERVICE_NAME), logger);
await bus.ensureTopics();
const service = await startSchemaValidatorService({ bus, logger });
onShutdown(async () => {
  await service.stop();
  await bus.stop();
}, logger);
