import { runServiceMain } from '@preflight/bus';
import { schemaValidatorConfig } from './config.js';
import { SERVICE_NAME, SERVICE_VERSION } from './decide.js';
import { startSchemaValidatorService } from './service.js';

await runServiceMain({ name: SERVICE_NAME, version: SERVICE_VERSION }, (deps) => startSchemaValidatorService(deps), () => schemaValidatorConfig());
