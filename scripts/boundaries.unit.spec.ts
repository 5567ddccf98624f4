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
});
