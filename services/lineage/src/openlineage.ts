import { expectationDatasetOf } from '@preflight/contracts';
import { failingFindings, type ConnectorCredentialsAudited, type ConnectorHandshake, type ConnectorSchemaChecked, type ConnectorValidated, type ExpectationResult } from '@preflight/events';

/**
 * OpenLineage 2-0-2 run events for preflight attempts: each attempt is a run (run id = attempt
 * id) of the job `preflight.<connector>`; the contract's datasets are its inputs. Pure functions
 * of the platform's own events, so a redelivered event maps to the same lineage event.
 */
export const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const PRODUCER_URI = 'https://connector-preflight.dev/lineage/0.1.0';
const FACET = {
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  dataQualityAssertions: 'https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet',
  dataQualityMetrics: 'https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet',
  test: 'https://openlineage.io/spec/facets/1-0-1/TestRunFacet.json#/$defs/TestRunFacet',
  errorMessage: 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
} as const;

type Facet = { _producer: string; _schemaURL: string } & Record<string, unknown>;

export interface InputDataset {
  namespace: string;
  name: string;
  facets?: Record<string, Facet>;
  inputFacets?: Record<string, Facet>;
}

export interface RunEvent {
  eventType: 'START' | 'COMPLETE' | 'FAIL';
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets?: Record<string, Facet> };
  job: { namespace: string; name: string };
  inputs: InputDataset[];
  outputs: [];
}

const facet = (kind: keyof typeof FACET, body: Record<string, unknown>): Facet => ({ _producer: PRODUCER_URI, _schemaURL: FACET[kind], ...body });

/**
 * The dataset namespace by OpenLineage's naming conventions (`postgres://host:port`,
 * `mysql://host:port`, `file://…`, the API's origin), from the handshake's audit fields.
 */
export function datasetNamespace(sourceType: string, audit: Record<string, string>): string {
  const a = (k: string): string | undefined => audit[`source.${k}`];
  switch (sourceType) {
    case 'postgres':
      return `postgres://${a('host') ?? 'unknown'}:${a('port') ?? '5432'}`;
    case 'mysql':
    case 'mariadb':
      return `mysql://${a('host') ?? 'unknown'}:${a('port') ?? '3306'}`;
    case 'rest': {
      const base = a('baseUrl');
      try {
        return base ? new URL(base).origin : 'rest://unknown';
      } catch {
        return 'rest://unknown';
      }
    }
    default:
      return `file://${a('path') ?? 'unknown'}`;
  }
}

/**
 * `database.schema.table` for SQL sources (the convention), the plain name elsewhere. The config
 * names database and schema (audit fields); where it leaves them out, the contract's server did
 * (the dataset's namespace in the contract facts).
 */
function qualified(sourceType: string, audit: Record<string, string>, table: string, namespace: string | null): string {
  const db = audit['source.database'];
  if (sourceType === 'postgres') return [db, audit['source.schema'] ?? namespace ?? 'public', table].filter(Boolean).join('.');
  if (sourceType === 'mysql' || sourceType === 'mariadb') return [db ?? namespace, table].filter(Boolean).join('.');
  return table;
}

const ASSERTION: Record<string, string> = {
  expect_column_values_to_not_be_null: 'not_null',
  expect_column_values_to_be_unique: 'unique',
  expect_compound_columns_to_be_unique: 'unique',
  expect_column_values_to_be_in_set: 'accepted_values',
  expect_column_values_to_match_regex: 'regex',
  expect_column_values_to_be_between: 'between',
  expect_table_row_count_to_be_between: 'row_count',
  expect_column_to_exist: 'column_exists',
  expect_table_columns_to_match_set: 'columns_match',
  expect_query_result_to_meet_threshold: 'custom_sql',
};

/** The contract's datasets, from the facts the handshake carries (the handler fills them in for a handshake written without). */
function inputs(h: ConnectorHandshake, schema: ConnectorSchemaChecked | undefined): InputDataset[] {
  const facts = h.contractFacts;
  if (!facts) return [];
  const namespace = datasetNamespace(h.spec.sourceType, h.audit);
  const results = schema?.checkpoint?.results ?? [];
  return facts.datasets.map((d) => {
    const ds = d.name;
    const mine = results.filter((r) => expectationDatasetOf(facts.datasets, JSON.parse(r.kwargsJson) as Record<string, unknown>) === ds);
    const out: InputDataset = {
      namespace,
      name: qualified(h.spec.sourceType, h.audit, ds, d.namespace),
      facets: {
        schema: facet('schema', {
          fields: d.fields.map((f, i) => {
            // The type the source actually has where the schema check saw a different one.
            const drift = schema?.diff.find((x) => x.dataset === ds && x.field === f.name && x.actual);
            const type = drift?.actual ?? f.type;
            return { name: f.name, ...(type ? { type } : {}), ordinal_position: i + 1 };
          }),
        }),
      },
    };
    if (schema?.checkpoint) {
      out.inputFacets = {
        dataQualityAssertions: facet('dataQualityAssertions', {
          assertions: mine.map((r) => {
            const kwargs = JSON.parse(r.kwargsJson) as { column?: string };
            return {
              assertion: ASSERTION[r.expectationType] ?? r.expectationType,
              success: r.success,
              ...(kwargs.column ? { column: kwargs.column } : {}),
              // Every contract rule blocks READY today, so every assertion is an error-level one.
              severity: 'error',
              name: r.expectationType,
              ...(r.observedValue !== null ? { actual: r.observedValue } : {}),
            };
          }),
        }),
        dataQualityMetrics: facet('dataQualityMetrics', metrics(mine)),
      };
    }
    return out;
  });
}

function metrics(results: ExpectationResult[]): Record<string, unknown> {
  const rowCount = results.find((r) => r.expectationType === 'expect_table_row_count_to_be_between');
  const rows = rowCount?.observedValue !== undefined && rowCount?.observedValue !== null && /^\d+$/.test(rowCount.observedValue) ? Number(rowCount.observedValue) : results.find((r) => r.elementCount !== null)?.elementCount;
  const columnMetrics: Record<string, { nullCount: number }> = {};
  for (const r of results) {
    if (r.expectationType !== 'expect_column_values_to_not_be_null' || r.unexpectedCount === null) continue;
    const column = (JSON.parse(r.kwargsJson) as { column?: string }).column;
    if (column) columnMetrics[column] = { nullCount: r.unexpectedCount };
  }
  return { ...(typeof rows === 'number' ? { rowCount: rows } : {}), columnMetrics };
}

export interface LineageSettings {
  /** The job namespace (OpenLineage: where the job runs), e.g. `connector-preflight`. */
  namespace: string;
}

const job = (s: LineageSettings, e: { connectorId: string }): RunEvent['job'] => ({ namespace: s.namespace, name: `preflight.${e.connectorId}` });

/** START, when the attempt's handshake is known: the run began when the handshake did. */
export function startEvent(h: ConnectorHandshake, s: LineageSettings): RunEvent {
  return {
    eventType: 'START',
    eventTime: new Date(Date.parse(h.occurredAt) - h.durationMs).toISOString(),
    producer: PRODUCER_URI,
    schemaURL: SPEC,
    run: { runId: h.correlationId },
    job: job(s, h),
    inputs: inputs(h, undefined),
    outputs: [],
  };
}

const lower = (s: string): 'pass' | 'fail' => (s === 'PASS' || s === 'COMPLETED' ? 'pass' : 'fail');

/**
 * COMPLETE for READY, FAIL otherwise; the datasets carry schema, assertions and metrics from the
 * schema check, and the checks that have no dataset (connectivity, credentials) are test results
 * on the run.
 */
export function finishEvent(v: ConnectorValidated, facts: { handshake?: ConnectorHandshake; schema?: ConnectorSchemaChecked; credentials?: ConnectorCredentialsAudited }, s: LineageSettings): RunEvent {
  const tests = [
    ...(facts.handshake ? [{ name: 'connectivity', status: lower(facts.handshake.status), severity: 'error', type: 'handshake', ...(facts.handshake.error ? { actual: facts.handshake.error.code } : {}) }] : []),
    ...(facts.credentials ? [{ name: 'credential_audit', status: lower(facts.credentials.status), severity: 'error', type: 'access_scope', ...(failingFindings(facts.credentials.findings).length ? { actual: failingFindings(facts.credentials.findings).map((f) => f.code).join(',') } : {}) }] : []),
    ...(facts.schema ? [{ name: 'schema_contract', status: lower(facts.schema.status), severity: 'error', type: 'schema' }] : []),
  ];
  const runFacets: Record<string, Facet> = { test: facet('test', { tests }) };
  if (v.status === 'FAILED') runFacets['errorMessage'] = facet('errorMessage', { message: `preflight FAILED: ${v.reason ?? 'unknown'}`, programmingLanguage: 'TypeScript' });
  return {
    eventType: v.status === 'READY' ? 'COMPLETE' : 'FAIL',
    eventTime: v.occurredAt,
    producer: PRODUCER_URI,
    schemaURL: SPEC,
    run: { runId: v.correlationId, facets: runFacets },
    job: job(s, v),
    inputs: facts.handshake ? inputs(facts.handshake, facts.schema) : [],
    outputs: [],
  };
}
