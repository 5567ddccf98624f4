import { runServiceMain } from '@preflight/bus';
import { projectorConfig } from './config.js';
import { startProjectorService } from './service.js';

await runServiceMain(
  { name: 'projector', version: '0.1.0' },
  (deps) => {
    if (deps.config.developmentTokens) process.stderr.write('projector: no PREFLIGHT_JWT_SECRET / PREFLIGHT_JWKS_URL set: accepting HS256 tokens signed with the local development secret\n');
    return startProjectorService(deps);
  },
  () => projectorConfig(),
);
