import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { toYaml } from './yaml-out.js';

/** What the value is as JSON data: undefined map values dropped, undefined list items null. */
const asData = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

const TRICKY = [
  '', ' ', 'a ', ' a', 'null', 'Null', '~', 'true', 'False', 'yes', 'NO', 'on', 'off', 'y', 'N', '<<', '0', '-1', '+1', '1.5', '1e3', '.5', '0x1F', '0o17', '0b101',
  '.inf', '-.inf', '.nan', '12:30', '2026-12-02', '2026-12-02T10:00:00.000Z', 'a: b', 'a #b', 'a#b', 'a:', 'a:b', '- a', '-a', '? a', ':a', ',a', '[a]', '{a}', '#a', '&a', '*a',
  '!a', '|a', '>a', "'a'", '"a"', '%a', '@a', '`a', 'multi\nline', 'tab\there', 'cr\r', 'nul\u0000', 'del\u007f', 'nel\u0085', 'ls\u2028', 'bom\ufeff', 'ünïcödé', '日本語', 'emoji 🎉',
  'back\\slash', 'kafka://acme.connector.handshake/3/1234', 'policy:auto-approve', 'user:sam (policy:breaking-change-in-production)', 'SCHEMA_MISMATCH,QUALITY', '^[^@\\s]+@[^@\\s]+$',
  'GRANT SELECT ON public.customers TO reader', '1.0', '2.0.0', '1_000', '-0.5e-3', '1:20:30', '0755', '-0b11', '1.2.3-rc.1', 'v1.0.0', '=', ';', '$x', '^x', '(x)', '/x', '.x', 'x.', 'x-', 'a  b', 'a\u00a0b',
];

describe('toYaml (receipts without the yaml document model)', () => {
  it('every tricky string, as a value, a key and a list item, reads back as itself', () => {
    for (const s of TRICKY) {
      const doc = { value: s, list: [s, s], nested: { [s || 'empty']: s }, [s]: 1 };
      expect(parse(toYaml(doc)), JSON.stringify(s)).toEqual(asData(doc));
    }
  });

  it('random strings over YAML\'s indicator and control characters read back as themselves', () => {
    const alphabet = ['a', 'Z', '0', '9', ' ', ':', '#', '-', '?', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '\\', '\n', '\t', '.', '~', '+', 'e', 'x', 'ü', '\u2028', '\u0085'];
    let seed = 42;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 3000; i++) {
      const s = Array.from({ length: 1 + rand(8) }, () => alphabet[rand(alphabet.length)]).join('');
      expect(parse(toYaml({ k: s, l: [s] })), JSON.stringify(s)).toEqual({ k: s, l: [s] });
    }
  });

  it('nests maps and lists in block style, empties as {} and [], and reads back equal to the data', () => {
    const doc = {
      receipt_version: 3,
      status: 'READY',
      reason: null,
      ok: true,
      ratio: 0.25,
      missing: undefined,
      connector: { id: 'acme.crm', environment: null, labels: {} },
      differences: [],
      expectations: [
        { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'country', value_set: ['DE', 'FR'] }, rows: [{ id: '2', country: 'XX' }], empty: [] },
        { type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1, max_value: null } },
      ],
      matrix: [[1, 2], [], [[3]], [{ a: 1 }]],
      evidence: ['kafka://t/0/1', undefined],
    };
    const text = toYaml(doc);
    expect(parse(text)).toEqual(asData(doc));
    expect(text).toMatch(/^status: READY$/m);
    // A version is not a number: written plain, as the yaml library does.
    expect(toYaml({ version: '2.0.0', v: '1.0' })).toBe('version: 2.0.0\nv: "1.0"\n');
    expect(text).toContain('connector:\n  id: acme.crm\n  environment: null\n  labels: {}\n');
    expect(text).toContain('expectations:\n  - type: expect_column_values_to_be_in_set\n    kwargs:\n      column: country\n      value_set:\n        - DE\n        - FR\n');
    // For ordinary receipts the text is the yaml library's own (block style, 2 spaces).
    const simple = { a: 1, b: { c: [1, { d: 'x', e: [] }], f: 'text' }, g: ['p', 'q'] };
    expect(toYaml(simple)).toBe(stringify(simple, { lineWidth: 0 }));
  });
});
