import { runServiceMain } from '@preflight/bus';
import { startLineageService, SERVICE_NAME, SERVICE_VERSION } from './service.js';
import { HttpLineageTransport } from './transport.js';

// Off by default: lineage runs only where an OpenLineage endpoint is configured.
const url = process.env['OPENLINEAGE_URL'];
if (!url) {
  process.stderr.write('lineage: OPENLINEAGE_URL is not set; lineage is off (set it to a Marquez-compatible endpoint, e.g. http://marquez:5000)\n');
  process.exit(0);
}
const apiKey = process.env['OPENLINEAGE_API_KEY'];
await runServiceMain({ name: SERVICE_NAME, version: SERVICE_VERSION }, (deps) =>
  startLineageService({ ...deps, transport: new HttpLineageTransport(url, apiKey ? { apiKey } : {}), settings: { namespace: process.env['OPENLINEAGE_NAMESPACE'] ?? 'connector-preflight' } }),
);
