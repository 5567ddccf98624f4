import { describe, expect, it } from 'vitest';
import { receiptToJunit } from './junit.js';

describe('receipt --junit', () => {
  it('one test case per check and per expectation; failures carry the evidence, escaped', () => {
    const xml = receiptToJunit({
      status: 'FAILED',
      connector: { id: 'acme.crm', name: 'crm <prod>' },
      checks: [
        { name: 'handshake', status: 'COMPLETED', duration_ms: 1500 },
        { name: 'schema_check', status: 'FAIL', duration_ms: 250 },
        { name: 'credential_audit', status: 'PASS', duration_ms: 30 },
      ],
      schema_check: {
        differences: [{ kind: 'PERMISSION', dataset: 'payroll', field: null, expected: 'SELECT', actual: 'denied', severity: 'ERROR' }],
        checkpoint: {
          expectations: [
            { expectation_type: 'expect_table_row_count_to_be_between', expected: { min_value: 1 }, success: true, observed: '5000', unexpected_count: null, unexpected_percent: null, error: null },
            { expectation_type: 'expect_column_values_to_not_be_null', expected: { column: 'salary' }, success: false, observed: null, unexpected_count: null, unexpected_percent: null, error: { code: 'PERMISSION', message: 'permission denied for table payroll' } },
          ],
        },
      },
    });
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="preflight" tests="5" failures="2">/);
    expect(xml).toContain('<testsuite name="preflight crm &lt;prod&gt;" tests="5" failures="2"');
    expect(xml).toContain('<testcase classname="preflight crm &lt;prod&gt;" name="handshake" time="1.5"/>');
    expect(xml).toMatch(/name="schema_check" time="0.25"><failure type="FAIL" message="schema_check FAIL">PERMISSION payroll: expected SELECT, actual denied<\/failure>/);
    expect(xml).toContain('<failure type="PERMISSION" message="expect_column_values_to_not_be_null failed">observed: null\nunexpected_count: -\nunexpected_percent: -\nerror: PERMISSION: permission denied for table payroll</failure>');
    expect(xml).toContain('name="expect_table_row_count_to_be_between {&quot;min_value&quot;:1}" time="0"/>');
  });
});
