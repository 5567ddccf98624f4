import { runServiceMain } from '@preflight/bus';
import { startProjectorService } from './service.js';

if (!process.env['PREFLIGHT_JWT_SECRET'] && !process.env['PREFLIGHT_JWT_SECRET_FILE'] && !process.env['PREFLIGHT_JWKS_URL'] && !process.env['PREFLIGHT_JWT_PUBLIC_KEY']) {
  process.stderr.write('projector: no PREFLIGHT_JWT_SECRET / PREFLIGHT_JWKS_URL set: accepting HS256 tokens signed with the local development secret\n');
}
await runServiceMain({ name: 'projector', version: '0.1.0' }, (deps) =>
  startProjectorService({ ...deps, http: { host: process.env['API_HOST'] ?? '127.0.0.1', port: Number(process.env['API_PORT'] ?? 8080) } }),
);
