/**
 * Side by side with datacontract-cli, the reference ODCS tool: one PostgreSQL database
 * (conformance/fixture.sql), one ODCS v3.1 contract (conformance/main.odcs.yaml), `datacontract
 * test` and our schema check on both. Every check datacontract-cli runs must get the same verdict
 * (passed / failed / warning) and the same count from us, except the differences named in
 * DIFFERENCES below, which docs/contracts.md explains with the ODCS text.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@preflight/core';
import { devScopes, getConnector, type Scopes } from '@preflight/connectors';
import type { ExpectationValidationResult } from '@preflight/contracts';
import { startPostgres, type DbServerHandle } from '@preflight/local-infra';
import { createPostgresReader } from '@preflight/testkit';
import type { ConnectorSpec } from '@preflight/events';
import { performSchemaCheck } from './handler.js';
import type { SchemaCheckOutcome } from './decide.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const DATACONTRACT = join(root, '.cache/venv/bin/datacontract');

type Verdict = 'passed' | 'failed' | 'warning';
interface DcCheck {
  key: string;
  type: string;
  model: string;
  field: string | null;
  result: string;
  reason: string | null;
  diagnostics: { value?: unknown; percent?: unknown; age_seconds?: unknown } | null;
}

/**
 * Where the two tools disagree by design. Each key is a datacontract-cli check; docs/contracts.md
 * ("Differences from datacontract-cli") gives the reason with the ODCS text.
 */
const DIFFERENCES: Record<string, string> = {
  // datacontract-cli substitutes ${object} unquoted, so PostgreSQL folds "Customers" to customers
  // and the query errors; we quote the identifier and run the rule.
  Customers__quality_sql_1: 'mixed-case ${object} in a sql rule',
  // ODCS exclusiveMinimum is one constraint; datacontract-cli splits it into >= and != checks.
  // We report one expectation (strict_min) whose count is the sum of theirs.
  Customers__balance__field_not_equal: 'exclusiveMinimum as one expectation',
  Customers__balance__field_minimum: 'exclusiveMinimum as one expectation',
  // datacontract-cli checks the declared type of array items; our discovery has no item types.
  'Customers__tags[]__field_type': 'array item types are not discovered',
};

function ourKey(r: ExpectationValidationResult): string {
  const m = r.expectation_config.meta;
  const k = r.expectation_config.kwargs;
  const at = `${m.dataset}__${m.column ?? ''}`;
  const index = /quality\[(\d+)\]$/.exec(m.source)?.[1];
  switch (m.clause) {
    case 'exists':
      return `${at}__field_is_present`;
    case 'required':
      return `${at}__field_required`;
    case 'unique':
      return `${at}__field_unique`;
    case 'primaryKey':
      if (r.expectation_config.expectation_type === 'expect_compound_columns_to_be_unique') return `${m.dataset}__primary_key_unique`;
      return r.expectation_config.expectation_type === 'expect_column_values_to_not_be_null' ? `${at}__field_primary_key_required` : `${at}__field_primary_key_unique`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${at}__field_minimum`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `${at}__field_maximum`;
    case 'minLength':
      return `${at}__field_min_length`;
    case 'maxLength':
      return `${at}__field_max_length`;
    case 'pattern':
      return `${at}__field_regex`;
    case 'enum':
      return `${at}__field_enum`;
    case 'relationship': {
      const cols = k['column_list'] as string[];
      return `${m.dataset}__${cols.join('__')}__${String(k['referenced_dataset'])}__${(k['referenced_columns'] as string[]).join('__')}__field_relationships`;
    }
    case 'nullValues':
      return `${at}__field_null_values`;
    case 'missingValues':
      return `${at}__field_missing_values`;
    case 'invalidValues':
      return `${at}__field_invalid_values`;
    case 'duplicateValues':
      return r.expectation_config.expectation_type === 'expect_compound_columns_to_be_unique' ? `${m.dataset}__model_duplicate_values` : `${at}__field_duplicate_values`;
    case 'rowCount':
      return `${m.dataset}__row_count`;
    case 'sql':
      return m.column ? `${at}__quality_sql_${index}` : `${m.dataset}__quality_sql_${index}`;
    case 'freshness':
    case 'retention':
      return `${at}__servicelevel_${m.clause}`;
    default:
      return `${at}__${m.clause}`;
  }
}

const verdictOf = (r: ExpectationValidationResult): Verdict => (r.success ? 'passed' : r.expectation_config.meta.severity === 'warning' ? 'warning' : 'failed');

describe('side by side with datacontract-cli on one PostgreSQL database', () => {
  let pg: DbServerHandle;
  let dir: string;
  let dc: DcCheck[];
  let ours: Extract<SchemaCheckOutcome, { ok: true }>;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  let scopes: Scopes;
  let baseSpec: ConnectorSpec;

  beforeAll(async () => {
    if (!existsSync(DATACONTRACT)) throw new Error(`${DATACONTRACT} is missing: run .ci/run (it installs datacontract-cli[postgres] into .cache/venv)`);
    pg = await startPostgres();
    await pg.exec(readFileSync(join(here, 'conformance/fixture.sql'), 'utf8'));
    // The reader lacks exactly one grant: SELECT on erp.payroll.
    const readerConfig = await createPostgresReader(pg, password, 'GRANT USAGE ON SCHEMA erp TO reader; GRANT SELECT ON erp."Customers", erp.order_lines, erp.orders TO reader; GRANT USAGE, UPDATE ON SEQUENCE erp.audit_seq TO reader');
    dir = mkdtempSync(join(tmpdir(), 'preflight-odcs-'));
    const contractYaml = readFileSync(join(here, 'conformance/main.odcs.yaml'), 'utf8').replaceAll('{{port}}', String(pg.port));
    writeFileSync(join(dir, 'contract.yaml'), contractYaml);

    // datacontract-cli starts slowly: the whole contract in one invocation.
    const run = spawnSync(DATACONTRACT, ['test', join(dir, 'contract.yaml'), '--output-format', 'json', '--output', join(dir, 'result.json')], {
      encoding: 'utf8',
      env: { ...process.env, DATACONTRACT_POSTGRES_USERNAME: 'reader', DATACONTRACT_POSTGRES_PASSWORD: password },
      timeout: 110_000,
    });
    if (!existsSync(join(dir, 'result.json'))) throw new Error(`datacontract test wrote no result (exit ${run.status}): ${run.stderr || run.stdout}`);
    dc = (JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { checks: DcCheck[] }).checks;

    // Registered without config.schema: the contract's server says erp.
    const spec: ConnectorSpec = {
      name: 'erp-conformance',
      sourceType: 'postgres',
      configJson: JSON.stringify(readerConfig),
      contractYaml,
      environment: 'dev',
      owner: null,
      labels: {},
    };
    scopes = devScopes({ stores: { test: async () => ({ value: password }) } });
    baseSpec = spec;
    const outcome = await performSchemaCheck('acme', spec, 'conformance', { connectors: getConnector, scopes }, silentLogger());
    if (!outcome.ok) throw new Error(`our schema check did not run: ${outcome.error.code} ${outcome.error.message}`);
    ours = outcome;
  }, 170_000);

  afterAll(async () => {
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every check datacontract-cli runs the same verdict and the same count', () => {
    const byKey = new Map<string, ExpectationValidationResult>();
    for (const r of ours.checkpoint?.results ?? []) byKey.set(ourKey(r), r);
    const typeFailures = new Set(ours.diff.filter((d) => d.kind === 'PHYSICAL_TYPE' || d.kind === 'TYPE_MISMATCH').map((d) => `${d.dataset}__${d.field}`));
    const compared: string[] = [];
    const disagreements: string[] = [];
    let percents = 0;
    for (const c of dc) {
      if (DIFFERENCES[c.key]) continue;
      if (c.type === 'field_physical_type' || c.type === 'field_type') {
        const mine: Verdict = typeFailures.has(`${c.model}__${c.field}`) ? 'failed' : 'passed';
        if (mine !== c.result) disagreements.push(`${c.key}: datacontract-cli ${c.result}, we ${mine}`);
        compared.push(c.key);
        continue;
      }
      const r = byKey.get(c.key);
      if (!r) {
        disagreements.push(`${c.key}: datacontract-cli ${c.result}, we have no such check`);
        continue;
      }
      compared.push(c.key);
      if (verdictOf(r) !== c.result) disagreements.push(`${c.key}: datacontract-cli ${c.result} (${c.reason ?? ''}), we ${verdictOf(r)} (${r.exception_info.exception_message ?? JSON.stringify(r.result.observed_value)})`);
      const theirs = c.diagnostics?.value;
      if (typeof theirs === 'number' && r.result.observed_value !== theirs) disagreements.push(`${c.key}: datacontract-cli counted ${theirs}, we ${JSON.stringify(r.result.observed_value)}`);
      const percent = c.diagnostics?.percent;
      if (typeof percent === 'number' && r.result.details?.percent_of_rows !== percent) disagreements.push(`${c.key}: datacontract-cli ${percent}%, we ${r.result.details?.percent_of_rows}%`);
      if (typeof percent === 'number') percents++;
    }
    expect(disagreements).toEqual([]);
    // The contract exercises the checks it claims to: a silently empty comparison must not pass.
    expect(compared.length).toBeGreaterThanOrEqual(70);
    expect(dc.filter((c) => !DIFFERENCES[c.key] && c.result === 'failed').length).toBeGreaterThanOrEqual(15);
    expect(dc.some((c) => c.result === 'warning')).toBe(true);
    expect(percents).toBe(3);
  });

  it('has no check datacontract-cli lacks, besides the named differences', () => {
    const theirs = new Set(dc.map((c) => c.key));
    const extra = (ours.checkpoint?.results ?? []).map(ourKey).filter((k) => !theirs.has(k));
    expect(extra).toEqual([]);
  });

  it('differs where it says it does, and only there', () => {
    const get = (key: string): DcCheck => {
      const c = dc.find((x) => x.key === key);
      if (!c) throw new Error(`datacontract-cli ran no ${key}`);
      return c;
    };
    // ${object} unquoted: their query errors; ours counts 2 scores above 90, under the limit of 3.
    expect(get('Customers__quality_sql_1')).toMatchObject({ result: 'failed', reason: expect.stringMatching(/relation "customers" does not exist/) });
    const sql = (ours.checkpoint?.results ?? []).find((r) => ourKey(r) === 'Customers__quality_sql_1');
    expect(sql).toMatchObject({ success: true, result: { observed_value: 2 } });
    // exclusiveMinimum 0 on balance (-10.00 and 0.00): their 1 + 1 is our 2.
    const excl = (ours.checkpoint?.results ?? []).find((r) => ourKey(r) === 'Customers__balance__field_minimum');
    expect([get('Customers__balance__field_minimum').result, get('Customers__balance__field_not_equal').result]).toEqual(['failed', 'failed']);
    expect(excl).toMatchObject({ success: false, result: { unexpected_count: 2 } });
    expect(Number(get('Customers__balance__field_minimum').diagnostics?.value) + Number(get('Customers__balance__field_not_equal').diagnostics?.value)).toBe(2);
    expect(get('Customers__tags[]__field_type').result).toBe('passed');
  });

  it('checks SLA freshness and retention like datacontract-cli: same verdicts, the same age give or take the seconds between the two runs', () => {
    const sla = dc.filter((c) => c.type.startsWith('servicelevel_'));
    expect(sla.map((c) => `${c.key} ${c.result}`).sort()).toEqual([
      'Customers__created_at__servicelevel_freshness passed',
      'Customers__created_at__servicelevel_retention passed',
      'orders__placed_at__servicelevel_freshness failed',
      'orders__placed_at__servicelevel_retention failed',
    ]);
    for (const c of sla) {
      const r = (ours.checkpoint?.results ?? []).find((x) => ourKey(x) === c.key);
      expect(r?.success).toBe(c.result === 'passed');
      // datacontract-cli ran first: our age is theirs plus the time in between, never less.
      const delta = Number(r?.result.observed_value) - Number(c.diagnostics?.age_seconds);
      expect(delta).toBeGreaterThanOrEqual(0);
      expect(delta).toBeLessThan(150);
    }
  });

  it('reads the schema from the contract server, compares physical types after aliases, counts duplicates the ODCS way', () => {
    expect(ours.datasetsDiscovered).toBe(4);
    expect(ours.diff.filter((d) => d.kind === 'MISSING_DATASET' || d.kind === 'MISSING_FIELD')).toEqual([]);
    expect(ours.diff.filter((d) => d.kind === 'PHYSICAL_TYPE').map((d) => `${d.field}: ${d.expected} vs ${d.actual}`).sort()).toEqual([
      'balance: numeric(10,2) vs numeric(12,2)',
      'big: integer vs bigint',
      'code: char(3) vs character(2)',
    ]);
    const dup = (ours.checkpoint?.results ?? []).find((r) => ourKey(r) === 'Customers__Email__field_duplicate_values');
    // One email twice: GE's unexpected_count is 2 rows, the ODCS metric 1 value, and mustBeLessThan 2 passes.
    expect(dup).toMatchObject({ success: true, result: { unexpected_count: 2, observed_value: 1 } });
  });

  it('reports the missing grant as PERMISSION naming the grant, never as a missing column', () => {
    const perm = ours.diff.filter((d) => d.kind === 'PERMISSION');
    expect(perm).toEqual([expect.objectContaining({ dataset: 'payroll', severity: 'ERROR', message: expect.stringContaining('GRANT SELECT ON erp.payroll TO reader') })]);
    const payroll = (ours.checkpoint?.results ?? []).filter((r) => r.expectation_config.meta.dataset === 'payroll');
    expect(payroll.filter((r) => r.expectation_config.expectation_type === 'expect_column_to_exist').every((r) => r.success)).toBe(true);
    expect(payroll.filter((r) => !r.success).every((r) => r.exception_info.error_code === 'PERMISSION')).toBe(true);
  });

  it('runs a sql rule in a read-only transaction: a write that reads like a SELECT is refused by the database', async () => {
    const contractYaml = `apiVersion: v3.1.0
kind: DataContract
id: sql-guard
version: 1.0.0
status: active
servers: [{ server: local, type: postgres, host: 127.0.0.1, port: ${pg.port}, database: postgres, schema: erp }]
schema:
  - name: orders
    properties: [{ name: id, logicalType: integer }]
    quality:
      - id: advances_a_sequence
        type: sql
        query: SELECT nextval('erp.audit_seq')
        mustBeGreaterThan: 0
`;
    const outcome = await performSchemaCheck('acme', { ...baseSpec, contractYaml }, 'guard', { connectors: getConnector, scopes }, silentLogger());
    if (!outcome.ok) throw new Error(outcome.error.message);
    const rule = outcome.checkpoint?.results.find((r) => r.expectation_config.meta.clause === 'sql');
    expect(rule).toMatchObject({ success: false, exception_info: { raised_exception: true, exception_message: expect.stringMatching(/read-only transaction/) } });
  });
});
