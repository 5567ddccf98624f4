import { describe, expect, it } from 'vitest';
import { isPreflightError } from '@preflight/core';
import { checkpointSeverity, compileExpectations, diffSchema, parseContract, piiFields, runCheckpoint, type CheckpointExecutor, type SourceSchema } from './index.js';

const yaml = `
apiVersion: v3.0.2
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

const rows = [
  { id: 1, email: 'a@x.io', country: 'DE', score: 10 },
  { id: 2, email: null, country: 'FR', score: 50 },
  { id: 3, email: 'c@x.io', country: 'XX', score: 500 },
  { id: 3, email: 'd@x.io', country: null, score: 20 },
];
const sample: CheckpointExecutor = { kind: 'rows', sample: async () => ({ rows, truncated: false }) };

describe('parseContract', () => {
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

  it('compiles rules into GE expectations, mapping percent thresholds to mostly', () => {
    const ex = compileExpectations(c).map((e) => [e.expectation_type, e.kwargs]);
    expect(ex).toContainEqual(['expect_column_values_to_not_be_null', { column: 'email', mostly: 0.9 }]);
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
        return [{ n: 10, nn: 10, u: 0 }];
      },
    };
    const r = await runCheckpoint(c, ex);
    expect(r.meta.engine).toBe('pushdown-sql');
    const inSet = seen.find((s) => s.sql.includes('NOT IN'))!;
    expect(inSet.sql).toContain('CAST("country" AS TEXT) NOT IN ($1, $2)');
    expect(inSet.params).toEqual(['DE', 'FR']);
    expect(seen.every((s) => !s.sql.includes("'DE'"))).toBe(true);
    // Never pulls rows: a query that selects column values is either a probe or bounded.
    const pulls = seen.filter((s) => /^SELECT "\w+"( AS v)? FROM/.test(s.sql));
    expect(pulls.length).toBeGreaterThan(0);
    expect(pulls.every((s) => /WHERE 1 = 0|LIMIT 20$/.test(s.sql))).toBe(true);
    const exists = r.results.find((x) => x.expectation_config.expectation_type === 'expect_column_to_exist' && x.expectation_config.kwargs['column'] === 'score')!;
    expect(exists.success).toBe(false);
    expect(r.results.length).toBeGreaterThan(8);
  });

  it('uses ? placeholders and REGEXP on MySQL', async () => {
    const seen: string[] = [];
    const pii = parseContract(yaml.replace(EMAIL_RULE, () => REGEX_RULE('^.+@.+$')));
    await runCheckpoint(pii, { kind: 'sql', dialect: 'mysql', quoteIdent: (s) => `\`${s}\``, query: async (sql) => (seen.push(sql), [{ n: 1, nn: 1, u: 0 }]) });
    expect(seen.find((s) => s.includes('REGEXP'))).toContain('CAST(`email` AS CHAR) NOT REGEXP ?');
  });
});
