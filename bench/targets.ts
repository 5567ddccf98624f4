// The table issue 14 asks every bench to end with: each row's figure from this run next to the
// issue's "now" (its idle-machine run) and its target, and whether this run meets it. Rows whose
// part did not run in this process are left out (bench:bus and bench print their own rows).
import { fmt, recorded, row } from './env.js';

interface Target {
  figure: string;
  /** The "now", as the issue wrote it. */
  was: string;
  target: string;
  /** This run's figure, formatted, or undefined when its part did not run. */
  now: () => string | undefined;
  met: () => boolean;
}

const has = (...names: string[]): boolean => names.every((n) => Number.isFinite(recorded(n)));
const r = recorded;
const ms = (n: string): string => `${fmt(r(n), 1)} ms`;

const TARGETS: Target[] = [
  { figure: 'bus produce / raw kafkajs', was: '0.38', target: '≥ 0.85', now: () => (has('bus_over_raw_produce') ? fmt(r('bus_over_raw_produce'), 2) : undefined), met: () => r('bus_over_raw_produce') >= 0.85 },
  { figure: 'raw + CloudEvents headers / raw', was: '0.74', target: '—', now: () => (has('raw_headers_over_raw_produce') ? fmt(r('raw_headers_over_raw_produce'), 2) : undefined), met: () => true },
  { figure: 'bus consume / raw (8 keys, the services)', was: '0.52', target: '≥ 0.85', now: () => (has('bus_key8_over_raw_consume') ? fmt(r('bus_key8_over_raw_consume'), 2) : undefined), met: () => r('bus_key8_over_raw_consume') >= 0.85 },
  { figure: 'one-hop latency p50, bus / raw', was: '1.45×', target: '≤ 1.1×', now: () => (has('bus_over_raw_latency_p50') ? `${fmt(r('bus_over_raw_latency_p50'), 2)}×` : undefined), met: () => r('bus_over_raw_latency_p50') <= 1.1 },
  { figure: 'projector fold / raw consume', was: '0.22', target: '≥ 0.7', now: () => (has('projector_fold_over_raw_consume') ? fmt(r('projector_fold_over_raw_consume'), 2) : undefined), met: () => r('projector_fold_over_raw_consume') >= 0.7 },
  {
    figure: 'pipeline N=2000 file preflights',
    was: '178/s, p50 7.7 s, p99 10.4 s',
    target: 'all in ≤ 4 s',
    now: () => (has('pipeline_n2000_per_s') ? `${fmt(r('pipeline_n2000_per_s'), 0)}/s (${fmt(2000 / r('pipeline_n2000_per_s'), 1)} s), p50 ${fmt(r('pipeline_n2000_p50_ms') / 1000, 1)} s, p99 ${fmt(r('pipeline_n2000_p99_ms') / 1000, 1)} s` : undefined),
    met: () => 2000 / r('pipeline_n2000_per_s') <= 4,
  },
  { figure: 'pipeline / direct, N=2000', was: '—', target: '≥ 0.6', now: () => (has('pipeline_over_direct_n2000') ? fmt(r('pipeline_over_direct_n2000'), 2) : undefined), met: () => r('pipeline_over_direct_n2000') >= 0.6 },
  {
    figure: 'one file preflight, idle platform',
    was: '≈ 94 ms',
    target: 'p50 ≤ 15, p99 ≤ 40 ms',
    now: () => (has('single_file_preflight_p50_ms') ? `p50 ${ms('single_file_preflight_p50_ms')}, p99 ${ms('single_file_preflight_p99_ms')}` : undefined),
    met: () => r('single_file_preflight_p50_ms') <= 15 && r('single_file_preflight_p99_ms') <= 40,
  },
  { figure: 'one PostgreSQL preflight (2 tables, pushdown)', was: '220–460 ms', target: 'p50 ≤ 60 ms', now: () => (has('single_pg_preflight_p50_ms') ? `p50 ${ms('single_pg_preflight_p50_ms')}, p99 ${ms('single_pg_preflight_p99_ms')}` : undefined), met: () => r('single_pg_preflight_p50_ms') <= 60 },
  {
    figure: 'POST /api/connectors, concurrency 50',
    was: '104/s, p50 489 ms',
    target: '≥ 1000/s, p99 ≤ 100 ms',
    now: () => (has('api_post_connectors_c50_per_s') ? `${fmt(r('api_post_connectors_c50_per_s'), 0)}/s, p50 ${ms('api_post_connectors_c50_p50_ms')}, p99 ${ms('api_post_connectors_c50_p99_ms')}` : undefined),
    met: () => r('api_post_connectors_c50_per_s') >= 1000 && r('api_post_connectors_c50_p99_ms') <= 100,
  },
  { figure: 'GET /api/topics while preflights run', was: '4.5–6.9 s', target: '≤ 200 ms', now: () => (has('api_topics_under_load_p99_ms') ? `p50 ${ms('api_topics_under_load_p50_ms')}, p99 ${ms('api_topics_under_load_p99_ms')}` : undefined), met: () => r('api_topics_under_load_p99_ms') <= 200 },
  {
    figure: 'GET /api/connectors, 10,000 connectors',
    was: 'one 10.5 MB response, 125–204 ms',
    target: 'page ≤ 100 KB, p99 ≤ 50 ms',
    now: () => (has('api_list_connectors_p99_ms') ? `${fmt(r('api_list_connectors_n'))} connectors: page ≤ ${fmt(r('api_list_connectors_page_max_bytes') / 1024, 0)} KB, p50 ${ms('api_list_connectors_p50_ms')}, p99 ${ms('api_list_connectors_p99_ms')}` : undefined),
    met: () => r('api_list_connectors_page_max_bytes') <= 100 * 1024 && r('api_list_connectors_p99_ms') <= 50,
  },
];

/** Prints the table for the rows this process measured. */
export function printTargets(): void {
  const rows = TARGETS.map((t) => ({ t, now: t.now() })).filter((x) => x.now !== undefined);
  if (rows.length === 0) return;
  const w = [46, 32, 60, 24, 5];
  console.log('\nissue 14 figures: this run against the issue\'s "now" (an idle machine) and its target\n');
  console.log(row(['figure', 'issue\'s now', 'this run', 'target', 'met'], w));
  for (const { t, now } of rows) console.log(row([t.figure, t.was, now!, t.target, t.met() ? 'yes' : 'no'], w));
}
