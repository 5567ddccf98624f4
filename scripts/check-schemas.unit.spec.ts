import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSchemaDir } from './check-schemas.js';

function tree(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'schemas-'));
  mkdirSync(join(root, 'connector'));
  for (const [name, schema] of Object.entries(files)) writeFileSync(join(root, 'connector', name), JSON.stringify(schema));
  return root;
}
const v1 = { type: 'record', name: 'E', fields: [{ name: 'a', type: 'string' }] };

describe('check-schemas', () => {
  it('accepts a compatible evolution', () => {
    const r = checkSchemaDir(tree({ 'x.v1.avsc': v1, 'x.v2.avsc': { ...v1, fields: [...v1.fields, { name: 'b', type: ['null', 'string'], default: null }] } }));
    expect(r).toMatchObject({ checked: 2, pairs: 1, failures: [] });
  });

  it('rejects a new required field, naming the file and the reason', () => {
    const r = checkSchemaDir(tree({ 'x.v1.avsc': v1, 'x.v2.avsc': { ...v1, fields: [...v1.fields, { name: 'b', type: 'string' }] } }));
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/x\.v2\.avsc: not BACKWARD compatible .*E\.b/);
  });

  it('rejects gaps in version numbers', () => {
    expect(checkSchemaDir(tree({ 'x.v1.avsc': v1, 'x.v3.avsc': v1 })).failures[0]).toMatch(/without gaps/);
  });

  it('passes on the repository schemas', () => {
    const r = checkSchemaDir(fileURLToPath(new URL('../schemas/events', import.meta.url)));
    expect(r.failures).toEqual([]);
    expect(r.checked).toBeGreaterThanOrEqual(10);
  });
});
