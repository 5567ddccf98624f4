import { runServiceMain } from '@preflight/bus';
import { readinessConfig } from './config.js';
import { SERVICE_NAME, SERVICE_VERSION } from './decide.js';
import { startReadinessService } from './service.js';

await runServiceMain({ name: SERVICE_NAME, version: SERVICE_VERSION }, (deps) => startReadinessService(deps), () => readinessConfig());
