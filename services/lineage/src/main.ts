import { runServiceMain } from '@preflight/bus';
import { lineageConfig, lineageEnabled } from './config.js';
import { startLineageService, SERVICE_NAME, SERVICE_VERSION } from './service.js';
import { HttpLineageTransport } from './transport.js';

// Off by default: lineage runs only where an OpenLineage endpoint is configured (and then does not even connect to Kafka).
if (!lineageEnabled()) {
  process.stderr.write('lineage: OPENLINEAGE_URL is not set; lineage is off (set it to a Marquez-compatible endpoint, e.g. http://marquez:5000)\n');
  process.exit(0);
}
await runServiceMain(
  { name: SERVICE_NAME, version: SERVICE_VERSION },
  ({ config, ...deps }) => startLineageService({ ...deps, transport: new HttpLineageTransport(config.url!, config.apiKey ? { apiKey: config.apiKey } : {}), settings: { namespace: config.namespace } }),
  () => lineageConfig(),
);
