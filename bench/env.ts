import { writeFileSync } from 'node:fs';
import { startKafka } from '@preflight/local-infra';

/** Uses KAFKA_BROKERS / SCHEMA_REGISTRY_URL when set, else starts a private broker and registry. */
export async function benchInfra(log: (l: string) => void = (l) => console.log(l)): Promise<{ brokers: string; registryUrl: string; stop(): Promise<void> }> {
  const stops: Array<() => Promise<void>> = [];
  let brokers = process.env['KAFKA_BROKERS'];
  if (!brokers) {
    const k = await startKafka({ log });
    brokers = k.brokers;
    stops.push(() => k.stop());
  }
  let registryUrl = process.env['SCHEMA_REGISTRY_URL'];
  if (!registryUrl) {
    // Loaded lazily so a bench against an external registry does not need the local one.
    const { startSchemaRegistry } = await import('@preflight/schema-registry');
    const r = await startSchemaRegistry({ brokers, port: 0, topic: `_schemas_bench_${process.pid}` });
    registryUrl = r.url;
    stops.unshift(() => r.close());
  }
  process.env['KAFKA_BROKERS'] = brokers;
  process.env['SCHEMA_REGISTRY_URL'] = registryUrl;
  return {
    brokers,
    registryUrl,
    stop: async () => {
      for (const s of stops) await s();
    },
  };
}

const figures: Record<string, number> = {};

/** Keeps one figure for the machine-readable output (ratios included, named by what they compare). */
export function record(name: string, value: number): void {
  figures[name] = Number.isFinite(value) ? Number(value.toFixed(4)) : value;
}

/** `BENCH_JSON=<file>`: every recorded figure as one JSON object, besides the printed table. */
export function writeBenchJson(): void {
  const file = process.env['BENCH_JSON'];
  if (!file) return;
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`\nfigures written to ${file}`);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Prints one aligned table row; benches print tables so figures can be compared at a glance. */
export function row(cells: Array<string | number>, widths: number[]): string {
  return cells.map((c, i) => String(c).padStart(widths[i] ?? 12)).join('  ');
}

/** A figure recorded so far in this process (NaN when its part did not run). */
export function recorded(name: string): number {
  return figures[name] ?? NaN;
}
