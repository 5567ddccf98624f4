import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkReleased, checkSchemaDir, main, release } from './check-schemas.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, unknown>, family = 'connector'): string {
  const root = mkdtempSync(join(tmpdir(), 'schemas-'));
  roots.push(root);
  mkdirSync(join(root, family));
  for (const [name, schema] of Object.entries(files)) writeFileSync(join(root, family, name), typeof schema === 'string' ? schema : JSON.stringify(schema, null, 2));
  return root;
}

const v1 = { type: 'record', name: 'E', namespace: 'dev.preflight', fields: [{ name: 'a', type: 'string' }] };
const withField = (f: Record<string, unknown>): unknown => ({ ...v1, fields: [...v1.fields, f] });

describe('check-schemas', () => {
  it('accepts a compatible evolution', () => {
    const r = checkSchemaDir(tree({ 'x.v1.avsc': v1, 'x.v2.avsc': withField({ name: 'b', type: ['null', 'string'], default: null }), 'other.v1.avsc': v1 }));
    expect(r).toEqual({ files: 3, pairs: 1, failures: [] });
  });

  it('rejects a new field without a default, naming the file, the previous one and the reason', () => {
    const r = checkSchemaDir(tree({ 'x.v1.avsc': v1, 'x.v2.avsc': withField({ name: 'b', type: 'string' }) }));
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/x\.v2\.avsc: not BACKWARD compatible with .*x\.v1\.avsc: .*READER_FIELD_MISSING_DEFAULT_VALUE.*'b'/);
  });

  it('rejects a type change and checks each version against the one before it only', () => {
    const changed = { ...v1, fields: [{ name: 'a', type: 'int' }] };
    const r = checkSchemaDir(tree({ 'x.v1.avsc': v1, 'x.v2.avsc': v1, 'x.v3.avsc': changed }));
    expect(r.pairs).toBe(2);
    expect(r.failures).toEqual([expect.stringMatching(/x\.v3\.avsc: .*TYPE_MISMATCH/)]);
  });

  it('rejects a file that is not valid Avro, even without an earlier version', () => {
    const r = checkSchemaDir(tree({ 'x.v1.avsc': '{"type": "record", "name": "E"', 'y.v1.avsc': { type: 'record', name: 'E' } }));
    expect(r.failures).toEqual([expect.stringMatching(/x\.v1\.avsc: the new schema is not a valid Avro schema/), expect.stringMatching(/y\.v1\.avsc: .*not a valid Avro schema/)]);
  });

  it('rejects gaps in version numbers and badly named files', () => {
    expect(checkSchemaDir(tree({ 'x.v1.avsc': v1, 'x.v3.avsc': v1 })).failures).toEqual([expect.stringMatching(/versions must run v1\.\.vN without gaps \(found v1, v3\)/)]);
    expect(checkSchemaDir(tree({ 'x.avsc': v1, 'y.v0.avsc': v1 })).failures).toEqual([expect.stringMatching(/x\.avsc: the name must be/), expect.stringMatching(/y\.v0\.avsc: the name must be/)]);
  });

  it('exits non-zero with one summary line, and zero when everything passes', () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => errors.push(l) };
    const bad = tree({ 'x.v1.avsc': v1, 'x.v2.avsc': withField({ name: 'b', type: 'string' }) });
    expect(release(bad).failures).toEqual([]);
    expect(main([bad], out)).toBe(1);
    expect(errors).toEqual([expect.stringMatching(/^✗ .*x\.v2\.avsc/)]);
    expect(lines).toEqual(['check-schemas: 2 schema file(s), 1 version pair(s) checked for BACKWARD compatibility, released ones unchanged, 1 failure(s)']);
    const good = tree({ 'x.v1.avsc': v1 });
    expect(main([good], { log: () => {}, error: () => {} })).toBe(1); // not released yet
    expect(main(['--release', good], { log: () => {}, error: () => {} })).toBe(0);
    expect(main([good], { log: () => {}, error: () => {} })).toBe(0);
    expect(main([join(tmpdir(), 'no-such-schemas-dir')], { log: () => {}, error: () => {} })).toBe(1);
  });

  it('passes on the repository schemas, every one of them released and unchanged', () => {
    const root = fileURLToPath(new URL('../schemas/events', import.meta.url));
    const r = checkSchemaDir(root);
    expect(r.failures).toEqual([]);
    expect(r.files).toBeGreaterThanOrEqual(10);
    expect(checkReleased(root)).toEqual([]);
  });

  it('a released schema is never edited nor deleted, and a new one must be released', () => {
    const root = tree({ 'x.v1.avsc': v1, 'y.v1.avsc': v1 });
    expect(checkReleased(root)).toEqual([expect.stringMatching(/released\.json: missing; run npm run schemas:release/)]);
    expect(release(root)).toEqual({ added: ['connector/x.v1.avsc', 'connector/y.v1.avsc'], failures: [] });
    expect(checkReleased(root)).toEqual([]);

    // Even a harmless-looking edit (a doc) is an edit: readers may hold the old text by id.
    writeFileSync(join(root, 'connector', 'x.v1.avsc'), JSON.stringify({ ...v1, doc: 'now documented' }, null, 2));
    writeFileSync(join(root, 'connector', 'x.v2.avsc'), JSON.stringify(v1, null, 2));
    rmSync(join(root, 'connector', 'y.v1.avsc'));
    expect(checkReleased(root)).toEqual([
      expect.stringMatching(/x\.v1\.avsc: edited after release .*add x\.v2\.avsc instead/),
      expect.stringMatching(/x\.v2\.avsc: not released yet; run npm run schemas:release/),
      expect.stringMatching(/y\.v1\.avsc: released but deleted/),
    ]);
    // Releasing never blesses an edit: nothing is recorded while one stands.
    const before = readFileSync(join(root, 'released.json'), 'utf8');
    expect(release(root).added).toEqual([]);
    expect(readFileSync(join(root, 'released.json'), 'utf8')).toBe(before);
  });
});
