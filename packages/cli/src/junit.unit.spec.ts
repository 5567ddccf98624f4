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

  it('a failed rule of warning severity passes with its evidence in system-out; failed-row samples go with the evidence', () => {
    const xml = receiptToJunit({
      status: 'FAILED',
      connector: { id: 'acme.crm' },
      schema_check: {
        checkpoint: {
          expectations: [
            { expectation_type: 'expect_column_values_to_be_in_set', expected: { column: 'country' }, success: false, observed: '1', unexpected_count: 1, unexpected_percent: 50, error: null, severity: 'warning', failed_rows: [{ id: '2', country: 'FR' }] },
            { expectation_type: 'expect_column_values_to_not_be_null', expected: { column: 'email' }, success: false, observed: '1', unexpected_count: 1, unexpected_percent: 50, error: null, severity: 'error', failed_rows: [{ id: '3', email: '[REDACTED]' }] },
          ],
        },
      },
    });
    expect(xml).toContain('tests="2" failures="1"');
    expect(xml).toContain('<system-out>severity: warning\nobserved: &quot;1&quot;\nunexpected_count: 1\nunexpected_percent: 50\nfailed row 1: {&quot;id&quot;:&quot;2&quot;,&quot;country&quot;:&quot;FR&quot;}</system-out>');
    expect(xml).toContain('failed row 1: {&quot;id&quot;:&quot;3&quot;,&quot;email&quot;:&quot;[REDACTED]&quot;}</failure>');
  });
});
