import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Boundaries the type system alone does not hold: a service could import kafkajs and build its
// own producer again. Production sources only: tests, test kits and scripts may reach further.
const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) return f === 'testing' || f === 'node_modules' || f === 'dist' ? [] : sources(path);
    return f.endsWith('.ts') && !/\.(unit|int)\.spec\.ts$/.test(f) ? [path] : [];
  });
}

const production = (): Array<{ file: string; text: string }> =>
  ['packages', 'services']
    .flatMap((d) => readdirSync(join(root, d)).map((n) => join(root, d, n, 'src')))
    .flatMap(sources)
    .map((path) => ({ file: relative(root, path), text: readFileSync(path, 'utf8') }));

/** Packages that are Kafka clients by nature: the bus itself, the test kit, the local broker, and the registry that stores its schemas in Kafka. */
const KAFKA_OWNERS = ['packages/bus/', 'packages/testkit/', 'packages/local-infra/', 'services/schema-registry/'];

/**
 * Configuration is read once, at start, by each package's or service's config/settings module,
 * and passed down. Besides those modules, production code reads the environment only here, each
 * for a reason; an entry that no longer reads it fails the test, so the list only shrinks.
 */
const READS_ENV_FOR_A_REASON: Record<string, string> = {
  // Test and development kits.
  'packages/testkit/src/index.ts': 'the integration tests\' broker and registry, from the global setup',
  'packages/local-infra/src/paths.ts': 'the local data directory of the development machine',
  'packages/local-infra/src/db.ts': 'the OS user that runs the local databases',
  // Not settings.
  'packages/connectors/src/scope/tenant-scope.ts': 'the `env:` secret store: TENANT_<tenant>__* variables are secrets resolved at use, not settings',
  'packages/connectors/src/scope/policy.ts': 'the tenant scope\'s settings module (scopePolicyFromEnv)',
  'packages/core/src/logger.ts': 'LOG_LEVEL when a logger is created before any config (every process\'s first line)',
  'packages/core/src/telemetry.ts': 'the standard OTEL_* variables, read once at initTelemetry',
};

const CONFIG_MODULE = /\/(config|settings)\.ts$/;

describe('source boundaries', () => {
  it('reads production sources (the scan is not vacuous)', () => {
    const files = production().map((f) => f.file);
    expect(files).toContain('services/projector/src/runner.ts');
    expect(files.length).toBeGreaterThan(100);
  });

  it('only the bus (and Kafka-native packages) use kafkajs; services reach Kafka through the ServiceBus', () => {
    const offenders = production()
      .filter((f) => !KAFKA_OWNERS.some((p) => f.file.startsWith(p)))
      .filter((f) => /from ['"]kafkajs['"]|\bbus\.kafka\b/.test(f.text))
      .map((f) => f.file);
    expect(offenders).toEqual([]);
  });

  it('no production module outside a config/settings module reads process.env (so nothing reads it at load or deep inside)', () => {
    const readers = production().filter((f) => /\bprocess\.env\b/.test(f.text.replace(/^\s*(\/\/|\*).*$/gm, '')));
    const offenders = readers.filter((f) => !CONFIG_MODULE.test(f.file) && !(f.file in READS_ENV_FOR_A_REASON)).map((f) => f.file);
    expect(offenders).toEqual([]);
    const stale = Object.keys(READS_ENV_FOR_A_REASON).filter((file) => !readers.some((r) => r.file === file));
    expect(stale).toEqual([]);
  });
});
