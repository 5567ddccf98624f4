import { runServiceMain } from '@preflight/bus';
import { SERVICE_NAME, SERVICE_VERSION } from './judge.js';
import { startCredentialAuditorService } from './service.js';

await runServiceMain({ name: SERVICE_NAME, version: SERVICE_VERSION }, (deps) => startCredentialAuditorService(deps));
