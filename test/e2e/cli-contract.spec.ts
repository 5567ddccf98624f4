import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../packages/cli/bin/preflight.mjs', import.meta.url));
const contract = (name: string): string => fileURLToPath(new URL(`../../examples/demo/contracts/${name}`, import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('preflight contract diff (the real binary)', () => {
  it('exits 1 and names the breaking change when the new version adds a required field', async () => {
    const r = await cli(['contract', 'diff', contract('customers.odcs.yaml'), contract('customers-drifted.odcs.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/contract 1\.0\.0 → 2\.0\.0: \d+ change\(s\), BREAKING/);
    expect(r.stdout).toMatch(/breaking\s+FIELD_ADDED\s+customers\.loyalty_tier\s+required field added/);
  });

  it('exits 0 for no change, and gives JSON on --json', async () => {
    const r = await cli(['contract', 'diff', contract('customers.odcs.yaml'), contract('customers.odcs.yaml'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ from: '1.0.0', to: '1.0.0', breaking: false, changes: [] });
  });

  it('exits 2 naming the file and every problem of an invalid contract, without a stack', async () => {
    const r = await cli(['contract', 'diff', contract('customers.odcs.yaml'), bin]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`preflight: ${bin}:`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
