import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, type Bus } from '@preflight/bus';
import { type Logger } from '@preflight/core';
import { devScopes, endpointsOf, type Scopes } from '@preflight/connectors';
import { freePort } from '@preflight/local-infra';
import { testBusConfig, testLogger } from '@preflight/testkit';
import { startHandshakeService } from '@preflight/handshake';
import { startSchemaValidatorService } from '@preflight/schema-validator';
import { startCredentialAuditorService } from '@preflight/credential-auditor';
import { startReadinessService } from '@preflight/readiness';
import { signDevToken, startProjectorService, type ProjectorService, type Role } from '@preflight/projector';

export const JWT_SECRET = 'platform-test-secret';
const repo = fileURLToPath(new URL('../..', import.meta.url));

export interface TestPlatform {
  bus: Bus;
  projector: ProjectorService;
  url: string;
  /** The demo files, in tenant acme's files root (`<filesRoot>/acme/demo`). */
  demoDir: string;
  /** Per-tenant roots: `<root>/<tenant>/…`. */
  filesRoot: string;
  secretsRoot: string;
  /** The development policy every service of this platform runs under. */
  scopes: Scopes;
  contract: (name: 'customers.odcs.yaml' | 'customers-drifted.odcs.yaml') => string;
  token(role: Role, tenant?: string, sub?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The whole platform in-process on fresh topics: the four pipeline services and the projector API. */
export async function startTestPlatform(options: { pipeline?: boolean; operationTimeoutMs?: number; logger?: Logger } = {}): Promise<TestPlatform> {
  const logger = options.logger ?? testLogger();
  const bus = createBus(testBusConfig(), logger);
  await bus.ensureTopics(3);
  await bus.producer.start();
  const stops: Array<() => Promise<void>> = [];
  const apiPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'platform-'));
  const filesRoot = join(root, 'files');
  const secretsRoot = join(root, 'secrets');
  const demoDir = join(filesRoot, 'acme', 'demo');
  mkdirSync(join(secretsRoot, 'acme'), { recursive: true });
  cpSync(join(repo, 'examples', 'demo', 'data'), demoDir, { recursive: true });
  const platformEndpoints = [...endpointsOf(bus.config.brokers.join(','), 'Kafka broker'), ...endpointsOf(bus.config.schemaRegistryUrl, 'schema registry'), { host: '127.0.0.1', port: apiPort, what: 'API' }];
  const scopes = devScopes({ filesRoot, secretsRoot, platformEndpoints });
  if (options.pipeline !== false) {
    for (const start of [startHandshakeService, startSchemaValidatorService, startCredentialAuditorService]) {
      const s = await start({ bus, logger, scopes });
      stops.push(() => s.stop());
    }
    const r = await startReadinessService({ bus, logger, settings: { preflightTimeoutMs: 30_000 } });
    stops.push(() => r.stop());
  }
  const projector = await startProjectorService({ bus, logger, scopes, http: { port: apiPort }, auth: { mode: 'hs256', secret: JWT_SECRET }, operationTimeoutMs: options.operationTimeoutMs ?? 60_000, snapshotEveryMs: 500 });
  return {
    bus,
    projector,
    url: projector.url,
    demoDir,
    filesRoot,
    secretsRoot,
    scopes,
    contract: (name) => readFileSync(join(repo, 'examples', 'demo', 'contracts', name), 'utf8'),
    token: (role, tenant = 'acme', sub) => signDevToken({ roles: [role], tenant, ...(sub ? { sub } : {}) }, JWT_SECRET),
    stop: async () => {
      await projector.stop();
      for (const s of stops) await s();
      await bus.stop();
    },
  };
}
