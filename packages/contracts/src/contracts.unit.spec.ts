import { describe, expect, it } from 'vitest';
import { isPreflightError } from '@preflight/core';
import { applyServer, checkpointSeverity, compileExpectations, diffSchema, parseContract, physicalTypeMatches, piiFields, readOnlyQueryProblem, runCheckpoint, type CheckpointExecutor, type SourceSchema } from './index.js';
import { parsedContractCacheUsage } from './contract.js';

const yaml = `
apiVersion: v3.1.0
kind: DataContract
id: crm-customers
version: 1.0.0
status: active
schema:
  - name: customers
    physicalName: customers
    logicalType: object
    properties:
      - name: id
        logicalType: integer
        required: true
        primaryKey: true
      - name: email
        logicalType: string
        classification: PII
        quality:
          - metric: nullValues
            mustBeLessThan: 10
            unit: percent
      - name: country
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: { validValues: [DE, FR] }
            mustBe: 0
          - metric: nullValues
            mustBeLessOrEqualTo: 1
      - name: score
        logicalType: number
        quality:
          - type: custom
            engine: greatExpectations
            implementation: |
              expectation_type: expect_column_values_to_be_between
              kwargs: { min_value: 0, max_value: 100, mostly: 0.9 }
    quality:
      - metric: rowCount
        mustBeBetween: [1, 1000]
`;

const EMAIL_RULE = `          - metric: nullValues
            mustBeLessThan: 10
            unit: percent`;
const REGEX_RULE = (pattern: string): string => `          - metric: invalidValues
            arguments: { pattern: '${pattern}' }
            mustBe: 0`;

/**
 * A fake SQL source's answer row: every alias the query selects (`AS n`, `AS nn3`, `AS u3`, `AS t0`)
 * gets the value given for its prefix, so one-expectation and shared dataset queries both answer.
 */
function answerAliases(sql: string, values: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [, alias, prefix] of sql.matchAll(/ AS ((nn|n|u|t|v)\d*)\b/g)) row[alias!] = values[prefix!];
  return row;
}

const rows = [
  { id: 1, email: 'a@x.io', country: 'DE', score: 10 },
  { id: 2, email: null, country: 'FR', score: 50 },
  { id: 3, email: 'c@x.io', country: 'XX', score: 500 },
  { id: 3, email: 'd@x.io', country: null, score: 20 },
];
const sample: CheckpointExecutor = { kind: 'rows', sample: async () => ({ rows, truncated: false }) };

describe('parseContract', () => {
  it('remembers a valid contract per text, and hands each caller its own copy', () => {
    const text = yaml.replace('id: crm-customers', 'id: crm-customers-memo');
    const first = parseContract(text);
    // A caller that changes what it got (as applyServer's callers may) changes no one else's.
    first.schema[0]!.properties.pop();
    first.id = 'changed';
    const second = parseContract(text);
    const third = parseContract(text);
    expect(second.id).toBe('crm-customers-memo');
    expect(second.schema[0]!.properties.map((p) => p.name)).toEqual(['id', 'email', 'country', 'score']);
    expect(third).toEqual(second);
    expect(third).not.toBe(second);
    expect(third.schema).not.toBe(second.schema);
  });

  it('throws for an invalid contract every time, and keeps the memo bounded', () => {
    const bad = yaml.replace('kind: DataContract', 'kind: Contract');
    for (let i = 0; i < 2; i++) {
      try {
        parseContract(bad);
        expect.unreachable('an invalid contract parsed');
      } catch (e) {
        expect(isPreflightError(e) && e.issues.map((x) => x.field)).toEqual(['kind']);
      }
    }
    for (let i = 0; i < 300; i++) parseContract(yaml.replace('id: crm-customers', `id: crm-customers-${i}`));
    const usage = parsedContractCacheUsage();
    expect(usage.entries).toBe(256);
    expect(usage.chars).toBeLessThanOrEqual(256 * (yaml.length + 10));
  });

  it('parses ODCS v3 and finds PII', () => {
    const c = parseContract(yaml);
    expect(c.id).toBe('crm-customers');
    expect(c.version).toBe('1.0.0');
    expect(piiFields(c)).toEqual([{ dataset: 'customers', field: 'email' }]);
  });

  it('reports every bad field at once, by path and value', () => {
    const bad = `apiVersion: v2
kind: Contract
id: x
version: 1
status: active
schema:
  - name: t
    properties:
      - name: a
        logicalType: text
      - logicalType: integer
        required: yes-please
      - name: b
        quality:
          - metric: nullCount
            mustBe: 0
`;
    try {
      parseContract(bad);
      expect.unreachable();
    } catch (e) {
      expect(isPreflightError(e)).toBe(true);
      const fields = (e as { issues: Array<{ field: string }> }).issues.map((i) => i.field);
      expect(fields).toEqual(['apiVersion', 'kind', 'schema[0].properties[0].logicalType', 'schema[0].properties[1].name', 'schema[0].properties[1].required', 'schema[0].properties[2].quality[0].metric']);
      expect((e as Error).message).not.toMatch(/\n\s+at /);
    }
  });

  it('rejects YAML that is not YAML', () => {
    expect(() => parseContract('a: [')).toThrow(/contract: not valid YAML/);
  });
});

describe('diffSchema', () => {
  const c = parseContract(yaml);
  const source = (fields: SourceSchema['datasets'][number]['fields']): SourceSchema => ({ datasets: [{ name: 'customers', namespace: 'public', kind: 'table', fields, primaryKey: ['id'] }] });
  const f = (name: string, logicalType: SourceSchema['datasets'][number]['fields'][number]['logicalType'], nullable = true) => ({ name, logicalType, physicalType: logicalType, nullable, primaryKey: name === 'id' });

  it('passes a matching source, and tolerates extra fields by default', () => {
    const r = diffSchema(c, source([f('id', 'integer', false), f('email', 'string'), f('country', 'string'), f('score', 'integer'), f('extra', 'string')]));
    expect(r.status).toBe('PASS');
    expect(r.entries.map((e) => [e.kind, e.severity])).toEqual([['UNEXPECTED_FIELD', 'WARNING']]);
  });

  it('finds missing fields, type mismatches and nullability, marking PII', () => {
    const r = diffSchema(c, source([f('id', 'string', true), f('country', 'string'), f('score', 'string')]));
    expect(r.status).toBe('FAIL');
    expect(r.entries.map((e) => `${e.kind}:${e.field}:${e.pii}`)).toEqual(['TYPE_MISMATCH:id:false', 'NULLABILITY:id:false', 'MISSING_FIELD:email:true', 'TYPE_MISMATCH:score:false']);
  });

  it('fails on unexpected fields when the policy says so, and on a missing dataset', () => {
    expect(diffSchema(c, source([f('id', 'integer', false), f('email', 'string'), f('country', 'string'), f('score', 'number'), f('x', 'string')]), { unexpectedFields: 'fail' }).status).toBe('FAIL');
    expect(diffSchema(c, { datasets: [] }).entries[0]).toMatchObject({ kind: 'MISSING_DATASET', dataset: 'customers', severity: 'ERROR' });
  });
});

describe('quality checkpoint', () => {
  const c = parseContract(yaml);

  it('compiles rules into GE expectations, keeping the ODCS threshold for the ODCS metric', () => {
    const ex = compileExpectations(c).map((e) => [e.expectation_type, e.kwargs]);
    const email = compileExpectations(c).find((e) => e.meta.clause === 'nullValues' && e.meta.column === 'email');
    expect(email).toMatchObject({ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'email' }, meta: { threshold: { op: 'mustBeLessThan', value: 10, unit: 'percent' }, severity: 'error' } });
    expect(ex).toContainEqual(['expect_column_values_to_be_in_set', { column: 'country', value_set: ['DE', 'FR'] }]);
    expect(ex).toContainEqual(['expect_column_values_to_be_unique', { column: 'id' }]);
    expect(ex).toContainEqual(['expect_column_values_to_be_between', { column: 'score', min_value: 0, max_value: 100, mostly: 0.9 }]);
    expect(ex).toContainEqual(['expect_table_row_count_to_be_between', { min_value: 1, max_value: 1000 }]);
  });

  it('evaluates over a sample in GE result format, with mostly and thresholds', async () => {
    const r = await runCheckpoint(c, sample, { runId: 'att-1' });
    const by = (type: string, col?: string) => r.results.find((x) => x.expectation_config.expectation_type === type && (col === undefined || x.expectation_config.kwargs['column'] === col))!;
    expect(r.meta).toMatchObject({ engine: 'sample', contract_id: 'crm-customers', run_id: 'att-1' });
    // 1 of 4 emails null = 25% > 10% allowed
    expect(by('expect_column_values_to_not_be_null', 'email')).toMatchObject({ success: false, result: { element_count: 4, unexpected_count: 1, unexpected_percent: 25 } });
    // country: 1 null allowed (rows threshold), XX not in set
    expect(by('expect_column_values_to_not_be_null', 'country').success).toBe(true);
    expect(by('expect_column_values_to_be_in_set', 'country')).toMatchObject({ success: false, result: { unexpected_count: 1, partial_unexpected_list: ['XX'] } });
    expect(by('expect_column_values_to_be_unique', 'id')).toMatchObject({ success: false, result: { unexpected_count: 2 } });
    // 1 of 4 scores out of range = 75% in range < mostly 0.9
    expect(by('expect_column_values_to_be_between', 'score').success).toBe(false);
    expect(by('expect_table_row_count_to_be_between').result.observed_value).toBe(4);
    expect(r.statistics.evaluated_expectations).toBe(r.results.length);
    expect(r.success).toBe(false);
  });

  it('redacts PII values in partial_unexpected_list and rates a PII failure V3', async () => {
    const pii = parseContract(yaml.replace(EMAIL_RULE, () => REGEX_RULE('^[a-z]@x[.]io$')));
    const r = await runCheckpoint(pii, { kind: 'rows', sample: async () => ({ rows: [{ id: 1, email: 'secret@y.com', country: 'DE', score: 1 }], truncated: false }) });
    const regex = r.results.find((x) => x.expectation_config.expectation_type === 'expect_column_values_to_match_regex')!;
    expect(regex.result.partial_unexpected_list).toEqual(['[REDACTED]']);
    expect(JSON.stringify(r)).not.toContain('secret@y.com');
    expect(checkpointSeverity(r)).toBe('V3');
  });

  it('rates a non-PII failure V2 and a passing checkpoint null', async () => {
    const r = await runCheckpoint(c, { kind: 'rows', sample: async () => ({ rows: [{ id: 1, email: 'a@x.io', country: 'ZZ', score: 1 }], truncated: false }) });
    expect(checkpointSeverity(r)).toBe('V2');
    const ok = await runCheckpoint(c, { kind: 'rows', sample: async () => ({ rows: [{ id: 1, email: 'a@x.io', country: 'DE', score: 1 }], truncated: false }) });
    expect(ok.success).toBe(true);
    expect(checkpointSeverity(ok)).toBeNull();
  });

  it('pushes expectations down as parameterized aggregate SQL, and keeps going after an error', async () => {
    const seen: Array<{ sql: string; params: unknown[] }> = [];
    const ex: CheckpointExecutor = {
      kind: 'sql',
      dialect: 'postgres',
      quoteIdent: (s) => `"${s}"`,
      query: async (sql, params) => {
        seen.push({ sql, params });
        if (sql.includes('"score"') && sql.includes('WHERE 1 = 0')) throw new Error('column "score" does not exist');
        return [answerAliases(sql, { n: 10, nn: 10, u: 0 })];
      },
    };
    const r = await runCheckpoint(c, ex);
    expect(r.meta.engine).toBe('pushdown-sql');
    // The dataset's scan aggregates are one query, its parameters numbered across expectations.
    const scans = seen.filter((s) => s.sql.startsWith('SELECT COUNT(*) AS n, '));
    expect(scans).toHaveLength(1);
    expect(scans[0]!.sql).toContain('SUM(CASE WHEN "country" IS NOT NULL AND CAST("country" AS TEXT) NOT IN ($1, $2) THEN 1 ELSE 0 END)');
    expect(scans[0]!.sql).toContain('"score" IS NOT NULL AND ("score" < $3 OR "score" > $4)');
    expect(scans[0]!.params).toEqual(['DE', 'FR', 0, 100]);
    expect(seen.every((s) => !s.sql.includes("'DE'"))).toBe(true);
    // Never pulls rows: a query that selects column values is either a probe or bounded.
    const pulls = seen.filter((s) => /^SELECT "\w+"( AS v)? FROM/.test(s.sql));
    expect(pulls.length).toBeGreaterThan(0);
    expect(pulls.every((s) => /WHERE 1 = 0|LIMIT 20$/.test(s.sql))).toBe(true);
    const exists = r.results.find((x) => x.expectation_config.expectation_type === 'expect_column_to_exist' && x.expectation_config.kwargs['column'] === 'score')!;
    expect(exists.success).toBe(false);
    expect(r.results.length).toBeGreaterThan(8);
  });

  it("reads each expectation's counts from its own columns of the shared query, and asks one query each when the shared one fails", async () => {
    const run = async (failShared: boolean) => {
      const seen: string[] = [];
      const r = await runCheckpoint(c, {
        kind: 'sql',
        dialect: 'postgres',
        quoteIdent: (s) => `"${s}"`,
        query: async (sql) => {
          seen.push(sql);
          if (sql.includes(' AS u0')) {
            if (failShared) throw new Error('invalid regular expression');
            // u<i> = i + 1: expectation i of the query has i + 1 failing rows.
            const row: Record<string, unknown> = { n: 100 };
            for (const [, i] of sql.matchAll(/ AS u(\d+)\b/g)) row[`u${i}`] = Number(i) + 1;
            for (const [, i] of sql.matchAll(/ AS nn(\d+)\b/g)) row[`nn${i}`] = 100;
            return [row];
          }
          if (sql.includes('SUM(CASE') && sql.includes('"score" < $1')) throw new Error('operator does not exist: text < integer');
          return [answerAliases(sql, { n: 100, nn: 100, u: 0, v: 'x' })];
        },
      });
      return { r, seen };
    };
    const shared = await run(false);
    const unexpected = shared.r.results.filter((x) => x.result.unexpected_count !== undefined).map((x) => x.result.unexpected_count);
    // In order: id not null, id unique (its own grouping query), email, country twice, score.
    expect(unexpected).toEqual([1, 0, 2, 3, 4, 5]);
    expect(shared.seen.filter((q) => q.includes(' FROM "customers"') && q.includes('SUM(CASE'))).toHaveLength(1);
    const alone = await run(true);
    // One query per scan expectation after the failed shared one, and the error stays with its own expectation.
    expect(alone.seen.filter((q) => q.includes('SUM(CASE')).length).toBe(1 + 5);
    const errored = alone.r.results.filter((x) => x.exception_info.raised_exception);
    expect(errored.map((x) => x.expectation_config.kwargs['column'])).toEqual(['score']);
    expect(alone.r.results.find((x) => x.expectation_config.expectation_type === 'expect_table_row_count_to_be_between')).toMatchObject({ success: true, result: { observed_value: 100 } });
  });

  it('uses ? placeholders and REGEXP on MySQL', async () => {
    const seen: string[] = [];
    const pii = parseContract(yaml.replace(EMAIL_RULE, () => REGEX_RULE('^.+@.+$')));
    await runCheckpoint(pii, { kind: 'sql', dialect: 'mysql', quoteIdent: (s) => `\`${s}\``, query: async (sql) => (seen.push(sql), [{ n: 1, nn: 1, u: 0 }]) });
    expect(seen.find((s) => s.includes('REGEXP'))).toContain('CAST(`email` AS CHAR) NOT REGEXP ?');
  });
});

describe('ODCS fidelity', () => {
  it('compares physicalType after folding engine aliases, enforcing parameters only when declared', () => {
    expect(physicalTypeMatches('int4', 'integer')).toBe(true);
    expect(physicalTypeMatches('integer', 'bigint')).toBe(false);
    expect(physicalTypeMatches('char(2)', 'character(2)')).toBe(true);
    expect(physicalTypeMatches('char(3)', 'character(2)')).toBe(false);
    expect(physicalTypeMatches('decimal(12,2)', 'numeric(12,2)')).toBe(true);
    expect(physicalTypeMatches('numeric(10,2)', 'numeric(12,2)')).toBe(false);
    expect(physicalTypeMatches('varchar', 'character varying(255)')).toBe(true);
    expect(physicalTypeMatches('timestamp', 'timestamp with time zone')).toBe(true);
    expect(physicalTypeMatches('text[]', '_text')).toBe(true);
    expect(physicalTypeMatches('text[]', 'text')).toBe(false);
    expect(physicalTypeMatches('boolean', 'tinyint(1)', 'mysql')).toBe(true);
    expect(physicalTypeMatches('numeric(12)', 'numeric(12,0)')).toBe(true);
  });

  it('fills the schema from the contract server and reports a config that overrides it', () => {
    const contract = parseContract(yaml.replace('schema:\n  - name: customers', 'servers:\n  - { server: prod, type: postgres, environment: prod, host: db, port: 5432, database: crm, schema: erp }\n  - { server: dev, type: postgres, environment: dev, host: db, port: 5432, database: crm, schema: erp_dev }\nschema:\n  - name: customers'));
    expect(applyServer(contract, { host: 'h' }, { sourceType: 'postgres', environment: 'prod' })).toMatchObject({ config: { host: 'h', schema: 'erp' }, conflicts: [] });
    expect(applyServer(contract, { host: 'h', server: 'dev' }, { sourceType: 'postgres', environment: 'prod' }).config).toEqual({ host: 'h', schema: 'erp_dev', database: 'crm' });
    expect(applyServer(contract, { schema: 'public' }, { sourceType: 'postgres', environment: 'prod' }).conflicts).toEqual([{ field: 'schema', config: 'public', server: 'erp', serverName: 'prod' }]);
    // Two servers of the type and no environment to choose by: nothing is guessed.
    expect(applyServer(contract, {}, { sourceType: 'postgres', environment: 'staging' })).toMatchObject({ config: {}, server: undefined });
  });

  it('counts duplicateValues as duplicated values (ODCS), not rows (GE)', async () => {
    const dup = parseContract(yaml.replace(EMAIL_RULE, () => '          - metric: duplicateValues\n            mustBeLessThan: 2'));
    const r = await runCheckpoint(dup, { kind: 'rows', sample: async () => ({ rows: [{ email: 'a@x' }, { email: 'a@x' }, { email: 'b@x' }, { email: null }, { email: null }], truncated: false }) });
    const d = r.results.find((x) => x.expectation_config.meta.clause === 'duplicateValues')!;
    expect(d).toMatchObject({ success: true, result: { unexpected_count: 2, observed_value: 1 } });
  });

  it('decides percent thresholds over every row, and a non-blocking severity only warns', async () => {
    const warn = parseContract(yaml.replace(EMAIL_RULE, () => `${EMAIL_RULE}\n            severity: warning`));
    const r = await runCheckpoint(warn, { kind: 'rows', sample: async () => ({ rows: [{ id: 1, email: null, country: 'DE', score: 1 }, { id: 2, email: 'b', country: 'DE', score: 1 }], truncated: false }) });
    const email = r.results.find((x) => x.expectation_config.meta.clause === 'nullValues' && x.expectation_config.meta.column === 'email')!;
    expect(email).toMatchObject({ success: false, result: { observed_value: 1, details: { percent_of_rows: 50 } }, expectation_config: { meta: { severity: 'warning' } } });
    expect(r.statistics.warnings).toBe(1);
    expect(r.success).toBe(true);
  });

  it('compiles property constraints, a composite key and a relationship', () => {
    // `enum` is ODCS v3.2 (v3.1's schema rejects it), read by the same compiler.
    const c2 = parseContract(`apiVersion: v3.2.0
kind: DataContract
id: c2
version: 1.0.0
status: active
schema:
  - name: lines
    properties:
      - { name: order_id, logicalType: integer, primaryKey: true, primaryKeyPosition: 1, relationships: [{ type: foreignKey, to: orders.id }] }
      - { name: line_no, logicalType: integer, primaryKey: true, primaryKeyPosition: 2 }
      - name: sku
        logicalType: string
        logicalTypeOptions: { minLength: 3, maxLength: 12, pattern: '^SKU-' }
      - name: qty
        logicalType: integer
        logicalTypeOptions: { exclusiveMinimum: 0, maximum: 99 }
      - { name: state, logicalType: string, enum: [{ value: open }, { value: closed }] }
  - name: orders
    properties:
      - { name: id, logicalType: integer, primaryKey: true }
`);
    const ex = compileExpectations(c2).map((e) => [e.meta.clause, e.expectation_type, e.kwargs]);
    expect(ex).toContainEqual(['primaryKey', 'expect_compound_columns_to_be_unique', { column_list: ['order_id', 'line_no'] }]);
    expect(ex.filter(([clause, type]) => clause === 'primaryKey' && type === 'expect_column_values_to_be_unique').map((x) => (x[2] as { column: string }).column)).toEqual(['id']);
    expect(ex).toContainEqual(['minLength', 'expect_column_value_lengths_to_be_between', { column: 'sku', min_value: 3 }]);
    expect(ex).toContainEqual(['pattern', 'expect_column_values_to_match_regex', { column: 'sku', regex: '^SKU-' }]);
    expect(ex).toContainEqual(['exclusiveMinimum', 'expect_column_values_to_be_between', { column: 'qty', min_value: 0, strict_min: true }]);
    expect(ex).toContainEqual(['enum', 'expect_column_values_to_be_in_set', { column: 'state', value_set: ['open', 'closed'] }]);
    expect(ex).toContainEqual(['relationship', 'expect_foreign_key_values_to_exist', { column_list: ['order_id'], referenced_dataset: 'orders', referenced_columns: ['id'] }]);
  });

  it('refuses a sql rule that is not a single read, naming the rule', () => {
    expect(readOnlyQueryProblem('SELECT COUNT(*) FROM ${object}')).toBeNull();
    expect(readOnlyQueryProblem("WITH x AS (SELECT 1) SELECT COUNT(*) FROM x WHERE 'delete' <> ''")).toBeNull();
    expect(readOnlyQueryProblem('DELETE FROM t')).toMatch(/read-only/);
    expect(readOnlyQueryProblem('SELECT 1; DROP TABLE t')).toMatch(/single statement/);
    expect(readOnlyQueryProblem('WITH d AS (DELETE FROM t RETURNING 1) SELECT COUNT(*) FROM d')).toMatch(/DELETE/);
    expect(readOnlyQueryProblem('SELECT * FROM t FOR UPDATE')).toMatch(/lock/);
    const bad = yaml.replace(EMAIL_RULE, () => '          - id: wipe\n            type: sql\n            query: DELETE FROM customers\n            mustBe: 0');
    let err: unknown;
    try {
      compileExpectations(parseContract(bad));
    } catch (e) {
      err = e;
    }
    expect(isPreflightError(err) && err.message).toMatch(/schema\[0\]\.properties\[1\]\.quality\[0\]\.query: sql rule wipe must be a read-only query/);
  });
});

describe('ODCS JSON Schema validation', () => {
  const issuesOf = (text: string): Array<{ field: string; message: string }> => {
    try {
      parseContract(text);
    } catch (e) {
      if (isPreflightError(e)) return e.issues;
      throw e;
    }
    return [];
  };
  const head = (v: string): string => `apiVersion: ${v}\nkind: DataContract\nid: x\nversion: 1.0.0\nstatus: active\n`;

  it('reports a YAML slip and a misspelt key as unknown keys, with every other problem, by path', () => {
    const issues = issuesOf(`${head('v3.1.0')}schema:
  - name: orders
    properties:
      - { name: amount, physicalType: numeric(12,2) }
      - { name: id, logicalType: integr, requird: true }
`);
    expect(issues.map((i) => i.field)).toEqual(expect.arrayContaining(['schema[0].properties[0].2)', 'schema[0].properties[1].logicalType', 'schema[0].properties[1].requird']));
    expect(issues.find((i) => i.field === 'schema[0].properties[0].2)')?.message).toMatch(/not an ODCS key/);
  });

  it('validates v3.0.x against the v3.0.2 schema: metric is spelt rule there', () => {
    const body = 'schema:\n  - name: t\n    properties:\n      - name: id\n        logicalType: integer\n        quality:\n          - metric: nullValues\n            mustBe: 0\n';
    expect(issuesOf(head('v3.0.2') + body)).toEqual([expect.objectContaining({ field: 'schema[0].properties[0].quality[0].rule', message: 'is required' })]);
    expect(issuesOf(head('v3.1.0') + body)).toEqual([]);
  });
});

describe('SLA freshness and retention', () => {
  const sla = (entries: string): string => `${yaml.replace('      - name: score\n        logicalType: number', '      - name: score\n        logicalType: number\n      - name: updated_at\n        logicalType: timestamp')}slaProperties:\n${entries}`;
  const at = (iso: string): Date => new Date(iso);

  it('reads values as datacontract-cli does: units (m is minutes for freshness, months for retention), ISO-8601 durations, days by default', async () => {
    const { slaSeconds, isoDurationSeconds } = await import('./index.js');
    expect(slaSeconds('freshness', 3, 'd')).toBe(259_200);
    expect(slaSeconds('freshness', 12, 'hours')).toBe(43_200);
    expect(slaSeconds('freshness', 30, 'm')).toBe(1_800);
    expect(slaSeconds('retention', 2, 'm')).toBe(2 * 30 * 86_400);
    expect(slaSeconds('retention', 1, 'y')).toBe(365 * 86_400);
    expect(slaSeconds('freshness', 2, undefined)).toBe(172_800);
    expect(slaSeconds('freshness', '5', 'h')).toBe(18_000);
    expect(slaSeconds('retention', 'P1Y2M', undefined)).toBe(365 * 86_400 + 60 * 86_400);
    expect(isoDurationSeconds('PT1H30M')).toBe(5_400);
    expect(slaSeconds('freshness', 3, 'fortnight')).toBeNull();
    expect(slaSeconds('freshness', 'soon', 'd')).toBeNull();
  });

  it('refuses an SLA that names no property or has no readable duration, naming the path', () => {
    const bad = sla('  - property: freshness\n    value: 1\n    element: customers.nope\n  - property: retention\n    value: 3\n    unit: fortnight\n    element: customers.updated_at\n  - property: latency\n    value: 4\n');
    expect(() => parseContract(bad)).toThrow(expect.objectContaining({
      issues: [
        expect.objectContaining({ field: 'slaProperties[0].element', value: 'customers.nope' }),
        expect.objectContaining({ field: 'slaProperties[1].value', message: expect.stringContaining('ISO-8601'), value: '3 fortnight' }),
      ],
    }));
  });

  it('freshness: the newest timestamp younger than the value; retention: the oldest; naive text is UTC; no timestamp fails', async () => {
    const c = parseContract(sla('  - property: freshness\n    value: 1\n    unit: d\n    element: customers.updated_at\n  - property: retention\n    value: P30D\n    element: customers.updated_at\n'));
    const rows = [
      { id: 1, email: 'a@x.io', country: 'DE', score: 1, updated_at: '2026-11-30 12:00:00' },
      { id: 2, email: 'b@x.io', country: 'DE', score: 1, updated_at: '2026-12-01T23:00:00Z' },
      { id: 3, email: 'c@x.io', country: 'DE', score: 1, updated_at: null },
    ];
    const run = (now: string, r = rows): ReturnType<typeof runCheckpoint> => runCheckpoint(c, { kind: 'rows', sample: async () => ({ rows: r, truncated: false }) }, { now: at(now) });
    const pick = (res: Awaited<ReturnType<typeof runCheckpoint>>, clause: string) => res.results.find((x) => x.expectation_config.meta.clause === clause)!;
    const fresh = await run('2026-12-02T10:00:00Z');
    expect(pick(fresh, 'freshness')).toMatchObject({ success: true, expectation_config: { expectation_type: 'expect_column_max_age_to_be_less_than', kwargs: { column: 'updated_at', max_age_seconds: 86_400 }, meta: { source: 'slaProperties[0]', severity: 'error' } }, result: { observed_value: 11 * 3600, details: { latest_timestamp: '2026-12-01T23:00:00.000Z' } } });
    expect(pick(fresh, 'retention')).toMatchObject({ success: true, result: { observed_value: 46 * 3600, details: { oldest_timestamp: '2026-11-30T12:00:00.000Z' } } });
    // A day and a second later the newest row is stale; 30 days later the oldest is kept too long.
    expect(pick(await run('2026-12-02T23:00:01Z'), 'freshness')).toMatchObject({ success: false, result: { observed_value: 86_401 } });
    expect(pick(await run('2026-12-30T12:00:00Z'), 'retention').success).toBe(false);
    expect(pick(await run('2026-12-30T11:59:59Z'), 'retention').success).toBe(true);
    expect(pick(await run('2026-12-02T10:00:00Z', rows.slice(2)), 'freshness')).toMatchObject({ success: false, result: { observed_value: null } });
  });

  it('pushes the age down: MAX / MIN as epoch seconds computed by the database', async () => {
    const c = parseContract(sla('  - property: freshness\n    value: 1\n    element: customers.updated_at\n'));
    const seen: string[] = [];
    const ex = (dialect: 'postgres' | 'mysql'): CheckpointExecutor => ({
      kind: 'sql',
      dialect,
      quoteIdent: (n) => `"${n}"`,
      query: async (sql) => {
        seen.push(sql);
        return [answerAliases(sql, { t: sql.includes('MAX("updated_at")') ? '1764630000' : null, n: 1, nn: 1, u: 0 })];
      },
    });
    const r = await runCheckpoint(c, ex('postgres'), { now: new Date(1764630000_000 + 90_000_000) });
    expect(seen.some((q) => q.includes('EXTRACT(EPOCH FROM MAX("updated_at")) AS t'))).toBe(true);
    expect(r.results.find((x) => x.expectation_config.meta.clause === 'freshness')).toMatchObject({ success: false, result: { observed_value: 90_000 } });
    await runCheckpoint(c, ex('mysql'), { now: new Date() });
    expect(seen.some((q) => q.includes(`TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', MAX("updated_at")) / 1000000 AS t`))).toBe(true);
  });
});
