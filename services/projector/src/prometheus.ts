import type { IncomingMessage, ServerResponse } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { METRIC, METRICS } from '@preflight/core';
import type { Projection, TaskCounts } from './projection.js';
import type { TopicStats } from './topics.js';

/**
 * Prometheus exposition through the OpenTelemetry exporter. Every instrument is an observable
 * read from the projection at scrape time, named by the semantic catalogue.
 */
export function createPrometheus(projection: () => Projection, topics: TopicStats | undefined): { handle(req: IncomingMessage, res: ServerResponse): void; shutdown(): Promise<void> } {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutTargetInfo: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter('connector-preflight');
  const gauge = (key: keyof typeof METRICS) => meter.createObservableGauge(key, { description: METRICS[key].description, unit: METRICS[key].unit === 'ratio' ? '1' : METRICS[key].unit });
  const counter = (key: keyof typeof METRICS) => meter.createObservableCounter(key, { description: METRICS[key].description });

  const rates = [METRIC.handshake_success_rate, METRIC.schema_validation_pass_rate, METRIC.credential_audit_pass_rate, METRIC.preflight_ready_rate] as const;
  for (const key of rates) {
    gauge(key).addCallback((r) => {
      const p = projection();
      const all = p.metrics()[key];
      if (all !== null) r.observe(all);
      for (const tenant of p.byTenant.keys()) {
        const v = p.metrics(tenant)[key];
        if (v !== null) r.observe(v, { tenant });
      }
    });
  }
  type Quantiles = { p50: number | null; p95: number | null; p99: number | null };
  const quantiles = (key: keyof typeof METRICS, read: () => Quantiles) =>
    gauge(key).addCallback((r) => {
      const d = read();
      for (const q of ['p50', 'p95', 'p99'] as const) if (d[q] !== null) r.observe(d[q], { quantile: q.slice(1) === '50' ? '0.5' : `0.${q.slice(1)}` });
    });
  quantiles(METRIC.preflight_duration_ms, () => projection().metrics()[METRIC.preflight_duration_ms]);
  gauge(METRIC.connectors_by_state).addCallback((r) => {
    for (const [state, n] of Object.entries(projection().metrics()[METRIC.connectors_by_state])) r.observe(n, { state });
  });
  counter(METRIC.handshakes_total).addCallback((r) => {
    const c = projection().overall;
    r.observe(c.handshakeCompleted, { status: 'COMPLETED' });
    r.observe(c.handshakeFailed, { status: 'FAILED' });
  });
  counter(METRIC.preflights_total).addCallback((r) => {
    const c = projection().overall;
    r.observe(c.ready, { status: 'READY' });
    r.observe(c.failed, { status: 'FAILED' });
  });
  counter(METRIC.incidents_opened_total).addCallback((r) => r.observe(projection().overall.incidents));
  counter(METRIC.alerts_raised_total).addCallback((r) => r.observe(projection().overall.alerts));
  const perTeam = (key: keyof typeof METRICS, read: (c: TaskCounts) => Array<[number, Record<string, string>]>) =>
    counter(key).addCallback((r) => {
      for (const [team, c] of Object.entries(projection().taskMetrics().byTeam)) for (const [v, labels] of read(c)) r.observe(v, { team, ...labels });
    });
  perTeam(METRIC.tasks_started_total, (c) => [[c.started, {}]]);
  perTeam(METRIC.tasks_completed_total, (c) => [
    [c.completed.READY, { result: 'READY' }],
    [c.completed.FAILED, { result: 'FAILED' }],
  ]);
  perTeam(METRIC.tasks_failed_total, (c) => Object.entries(c.failed).map(([code, n]) => [n, { code }]));
  perTeam(METRIC.tasks_timed_out_total, (c) => [[c.timedOut, {}]]);
  perTeam(METRIC.tasks_cancelled_total, (c) => [[c.cancelled, {}]]);
  quantiles(METRIC.task_duration_ms, () => projection().taskMetrics()[METRIC.task_duration_ms]);
  if (topics) {
    gauge(METRIC.topic_message_rate).addCallback(async (r) => {
      for (const row of await topics.rows().catch(() => [])) r.observe(row.ratePerSec, { topic: row.topic });
    });
    gauge(METRIC.consumer_lag).addCallback(async (r) => {
      for (const row of await topics.rows().catch(() => [])) for (const l of row.lag) r.observe(l.lag, { topic: row.topic, group: l.group });
    });
    gauge(METRIC.dead_letter_messages).addCallback(async (r) => {
      // Per consumer group that set them aside; a topic without dead letters shows one 0 (an empty group label is no label to Prometheus).
      for (const row of await topics.rows().catch(() => [])) {
        if (row.deadLetters === null) continue;
        if (row.deadLettersByGroup.length === 0) r.observe(row.deadLetters, { topic: row.topic, group: '' });
        for (const g of row.deadLettersByGroup) r.observe(g.count, { topic: row.topic, group: g.group });
      }
    });
  }
  return { handle: (req, res) => exporter.getMetricsRequestHandler(req, res), shutdown: () => provider.shutdown() };
}
