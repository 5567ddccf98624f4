import { busConfigFromEnv, createBus, onShutdown } from '@preflight/bus';
import { createLogger, initTelemetry } from '@preflight/core';
import { startProjectorService } from './service.js';

initTelemetry();
const logger = createLogger({ service: 'projector', version: '0.1.0' });
if (!process.env['PREFLIGHT_JWT_SECRET'] && !process.env['PREFLIGHT_JWKS_URL'] && !process.env['PREFLIGHT_JWT_PUBLIC_KEY']) {
  logger.warn('no PREFLIGHT_JWT_SECRET / PREFLIGHT_JWKS_URL set: accepting HS256 tokens signed with the local development secret');
}
const bus = createBus(busConfigFromEnv('projector'), logger);
await bus.ensureTopics();
const service = await startProjectorService({
  bus,
  logger,
  http: { host: process.env['API_HOST'] ?? '127.0.0.1', port: Number(process.env['API_PORT'] ?? 8080) },
});
onShutdown(async () => {
  await service.stop();
  await bus.stop();
}, logger);
