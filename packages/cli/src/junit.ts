/**
 * A readiness receipt as JUnit XML, for CI systems that render test reports: one test case per
 * preflight check and one per data-quality expectation, a failure carrying the evidence.
 */
interface ReceiptDoc {
  status?: string;
  connector?: { id?: string; name?: string };
  checks?: Array<{ name: string; status: string; duration_ms: number | null }>;
  schema_check?: {
    differences?: Array<{ kind: string; dataset: string; field: string | null; expected: string | null; actual: string | null; severity: string }>;
    checkpoint?: { expectations?: Array<{ expectation_type: string; expected: unknown; success: boolean; observed: unknown; unexpected_count: number | null; unexpected_percent: number | null; error: { code: string | null; message: string } | null; severity?: string; failed_rows?: Array<Record<string, string | null>> }> } | null;
    error?: { code: string; message: string } | null;
  };
  credential_audit?: { findings?: Array<{ code: string; severity: string; message: string }>; error?: { code: string; message: string } | null };
  handshake?: { error?: { code: string; message: string } | null };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Case {
  classname: string;
  name: string;
  seconds: number;
  failure?: { type: string; message: string; body: string };
  /** Evidence of a failure that does not fail the build (a rule of non-blocking severity). */
  out?: string;
}

export function receiptToJunit(r: ReceiptDoc): string {
  const suite = `preflight ${r.connector?.name ?? r.connector?.id ?? 'connector'}`;
  const cases: Case[] = [];
  for (const c of r.checks ?? []) {
    const failed = c.status !== 'PASS' && c.status !== 'COMPLETED';
    const details =
      c.name === 'schema_check'
        ? [...(r.schema_check?.differences ?? []).filter((d) => d.severity === 'ERROR').map((d) => `${d.kind} ${d.dataset}${d.field ? `.${d.field}` : ''}: expected ${d.expected ?? '-'}, actual ${d.actual ?? '-'}`), ...(r.schema_check?.error ? [`${r.schema_check.error.code}: ${r.schema_check.error.message}`] : [])]
        : c.name === 'credential_audit'
          ? [...(r.credential_audit?.findings ?? []).map((f) => `${f.code} (${f.severity}): ${f.message}`), ...(r.credential_audit?.error ? [`${r.credential_audit.error.code}: ${r.credential_audit.error.message}`] : [])]
          : r.handshake?.error
            ? [`${r.handshake.error.code}: ${r.handshake.error.message}`]
            : [];
    cases.push({ classname: suite, name: c.name, seconds: (c.duration_ms ?? 0) / 1000, ...(failed ? { failure: { type: c.status, message: `${c.name} ${c.status}`, body: details.join('\n') } } : {}) });
  }
  for (const e of r.schema_check?.checkpoint?.expectations ?? []) {
    const name = `${e.expectation_type} ${JSON.stringify(e.expected)}`;
    const evidence = [
      `observed: ${JSON.stringify(e.observed)}`,
      `unexpected_count: ${e.unexpected_count ?? '-'}`,
      `unexpected_percent: ${e.unexpected_percent ?? '-'}`,
      ...(e.error ? [`error: ${e.error.code ? `${e.error.code}: ` : ''}${e.error.message}`] : []),
      ...(e.failed_rows ?? []).map((row, i) => `failed row ${i + 1}: ${JSON.stringify(row)}`),
    ].join('\n');
    // JUnit has no warning: a failed rule of non-blocking severity passes, its evidence in system-out.
    const warning = !e.success && e.severity === 'warning';
    cases.push({ classname: `${suite}.checkpoint`, name, seconds: 0, ...(e.success ? {} : warning ? { out: `severity: warning\n${evidence}` } : { failure: { type: e.error?.code ?? 'EXPECTATION_FAILED', message: `${e.expectation_type} failed`, body: evidence } }) });
  }
  const failures = cases.filter((c) => c.failure).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="preflight" tests="${cases.length}" failures="${failures}">`,
    `  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">`,
    ...cases.map((c) =>
      c.failure
        ? `    <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${c.seconds}"><failure type="${esc(c.failure.type)}" message="${esc(c.failure.message)}">${esc(c.failure.body)}</failure></testcase>`
        : c.out
          ? `    <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${c.seconds}"><system-out>${esc(c.out)}</system-out></testcase>`
          : `    <testcase classname="${esc(c.classname)}" name="${esc(c.name)}" time="${c.seconds}"/>`,
    ),
    '  </testsuite>',
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}
