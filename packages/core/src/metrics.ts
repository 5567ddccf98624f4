/**
 * The semantic metric catalogue. Every metric key the platform emits is defined here, once, with
 * its meaning and unit; code imports `METRIC` and never spells a metric name itself. Dashboards,
 * Prometheus and the projector's JSON metrics all use these keys.
 */
export interface MetricDefinition {
  /** counter: monotonically increasing; gauge: a current value; histogram: a distribution. */
  kind: 'counter' | 'gauge' | 'histogram';
  unit: string;
  description: string;
}

export const METRICS = {
  handshake_success_rate: {
    kind: 'gauge',
    unit: 'ratio',
    description: 'Completed handshakes divided by all finished handshakes (completed + failed), 0..1.',
  },
  schema_validation_pass_rate: {
    kind: 'gauge',
    unit: 'ratio',
    description: 'Schema checks with status PASS divided by all schema checks, 0..1.',
  },
  credential_audit_pass_rate: {
    kind: 'gauge',
    unit: 'ratio',
    description: 'Credential audits with status PASS divided by all credential audits, 0..1.',
  },
  preflight_ready_rate: {
    kind: 'gauge',
    unit: 'ratio',
    description: 'Preflight attempts that ended READY divided by all finished attempts, 0..1.',
  },
  handshake_duration_ms: {
    kind: 'histogram',
    unit: 'ms',
    description: 'Wall time of one handshake against the source, retries included.',
  },
  schema_check_duration_ms: {
    kind: 'histogram',
    unit: 'ms',
    description: 'Wall time of discovery, contract diff and quality checkpoint for one attempt.',
  },
  credential_audit_duration_ms: {
    kind: 'histogram',
    unit: 'ms',
    description: 'Wall time of one credential audit.',
  },
  preflight_duration_ms: {
    kind: 'histogram',
    unit: 'ms',
    description: 'From the event that started an attempt to its connector.validated outcome.',
  },
  handshakes_total: { kind: 'counter', unit: 'events', description: 'Handshakes finished, by status.' },
  preflights_total: { kind: 'counter', unit: 'events', description: 'connector.validated outcomes, by status.' },
  incidents_opened_total: { kind: 'counter', unit: 'events', description: 'Incident tickets opened, by severity.' },
  alerts_raised_total: { kind: 'counter', unit: 'events', description: 'Alerts raised, by kind.' },
  events_consumed_total: { kind: 'counter', unit: 'events', description: 'Events handled by a consumer, by topic.' },
  events_dead_lettered_total: { kind: 'counter', unit: 'events', description: 'Messages sent to a dead-letter topic, by topic and reason code.' },
  events_duplicate_total: { kind: 'counter', unit: 'events', description: 'Messages skipped because their eventId was already handled.' },
  // An async preflight operation is what an MCP Task is (the task id is the operation id), so these
  // count both, labelled by the owning team (the connector's owner).
  tasks_started_total: { kind: 'counter', unit: 'tasks', description: 'Preflight operations (MCP tasks) started, by owning team.' },
  tasks_completed_total: { kind: 'counter', unit: 'tasks', description: 'Operations that ended with an outcome (READY or FAILED preflight), by team and result.' },
  tasks_failed_total: { kind: 'counter', unit: 'tasks', description: 'Operations that ended without an outcome (task status failed), by team and error code.' },
  tasks_timed_out_total: { kind: 'counter', unit: 'tasks', description: 'Operations failed because no outcome came before their deadline, by team.' },
  tasks_cancelled_total: { kind: 'counter', unit: 'tasks', description: 'Operations cancelled on request (MCP tasks/cancel or the API), by team.' },
  task_duration_ms: { kind: 'histogram', unit: 'ms', description: 'From an operation being started to it ending (completed, failed, timed out or cancelled).' },
  connectors_by_state: { kind: 'gauge', unit: 'connectors', description: 'Connectors currently in each state.' },
  topic_message_rate: { kind: 'gauge', unit: 'messages/s', description: 'Messages appended per second to a topic, over the last sampling window.' },
  consumer_lag: { kind: 'gauge', unit: 'messages', description: 'Log end offset minus committed offset, per consumer group and topic.' },
  dead_letter_messages: {
    kind: 'gauge',
    unit: 'messages',
    description: "Messages held in a topic's dead-letter topic (<topic>.dlq): input a service could not decode or handle. Above 0 needs a person.",
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** `METRIC.handshake_success_rate === 'handshake_success_rate'`, typed so a typo fails to compile. */
export const METRIC = Object.fromEntries(Object.keys(METRICS).map((k) => [k, k])) as { readonly [K in MetricKey]: K };
