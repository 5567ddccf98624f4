import { runServiceMain } from '@preflight/bus';
import { SERVICE_NAME, SERVICE_VERSION } from './decide.js';
import { startHandshakeService } from './service.js';

await runServiceMain({ name: SERVICE_NAME, version: SERVICE_VERSION }, (deps) => startHandshakeService(deps));
