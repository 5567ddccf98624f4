import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, type Bus } from '@preflight/bus';
import { type Logger } from '@preflight/core';
import { freePort } from '@preflight/local-infra';
import { testBusConfig, testLogger } from '@preflight/testkit';
import { startHandshakeService } from '@preflight/handshake';
import { startSchemaValidatorService } from '@preflight/schema-validator';
import { startCredentialAuditorService } from '@preflight/credential-auditor';
import { startReadinessService } from '@preflight/readiness';
import { signDevToken, startProjectorService, type ProjectorService, type Role } from '@preflight/projector';

export const JWT_SECRET = 'platform-test-secret';
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface TestPlatform {
  bus: Bus;
  projector: ProjectorService;
  url: string;
  demoDir: string;
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
  if (options.pipeline !== false) {
    for (const start of [startHandshakeService, startSchemaValidatorService, startCredentialAuditorService]) {
      const s = await start({ bus, logger });
      stops.push(() => s.stop());
    }
    const r = await startReadinessService({ bus, logger, settings: { preflightTimeoutMs: 30_000 } });
    stops.push(() => r.stop());
  }
  const projector = await startProjectorService({ bus, logger, http: { port: await freePort() }, auth: { mode: 'hs256', secret: JWT_SECRET }, operationTimeoutMs: options.operationTimeoutMs ?? 60_000, snapshotEveryMs: 500 });
  const demoDir = mkdtempSync(join(tmpdir(), 'platform-demo-'));
  cpSync(join(root, 'examples', 'demo', 'data'), demoDir, { recursive: true });
  return {
    bus,
    projector,
    url: projector.url,
    demoDir,
    contract: (name) => readFileSync(join(root, 'examples', 'demo', 'contracts', name), 'utf8'),
    token: (role, tenant = 'acme', sub) => signDevToken({ roles: [role], tenant, ...(sub ? { sub } : {}) }, JWT_SECRET),
    stop: async () => {
      await projector.stop();
      for (const s of stops) await s();
      await bus.stop();
    },
  };
}
