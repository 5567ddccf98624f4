import { describe, expect, it } from 'vitest';
import { contractChangelog } from './changelog.js';
import { parseContract } from './contract.js';

const base = `apiVersion: v3.1.0
kind: DataContract
id: crm
version: 1.0.0
status: active
schema:
  - name: customers
    properties:
      - name: id
        logicalType: integer
        primaryKey: true
      - name: email
        logicalType: string
        quality:
          - metric: nullValues
            mustBeLessThan: 10
            unit: percent
      - name: nickname
        logicalType: string
    quality:
      - metric: rowCount
        mustBeGreaterThan: 100
  - name: legacy
    properties:
      - name: x
        logicalType: string
`;

const edit = (f: (s: string) => string): ReturnType<typeof contractChangelog> => contractChangelog(parseContract(base), parseContract(f(base)));

describe('contract changelog', () => {
  it('is empty, and not breaking, for the same contract', () => {
    expect(edit((s) => s)).toEqual({ from: '1.0.0', to: '1.0.0', breaking: false, changes: [] });
  });

  it('classifies an added optional field and a loosened rule as non-breaking', () => {
    const log = edit((s) => s.replace('version: 1.0.0', 'version: 1.1.0').replace('mustBeLessThan: 10', 'mustBeLessThan: 20').replace('name: nickname\n        logicalType: string\n', 'name: nickname\n        logicalType: string\n      - name: loyalty_tier\n        logicalType: string\n'));
    expect(log.breaking).toBe(false);
    expect(log.changes.map((c) => [c.path, c.kind, c.breaking])).toEqual([
      ['contract', 'VERSION_CHANGED', false],
      ['customers.email', 'QUALITY_CHANGED', false],
      ['customers.loyalty_tier', 'FIELD_ADDED', false],
    ]);
  });

  it.each([
    ['a removed field', (s: string) => s.replace('      - name: nickname\n        logicalType: string\n', ''), 'customers.nickname', 'FIELD_REMOVED'],
    ['a retyped field', (s: string) => s.replace('name: id\n        logicalType: integer', 'name: id\n        logicalType: string'), 'customers.id', 'TYPE_CHANGED'],
    ['a field made required', (s: string) => s.replace('name: nickname\n        logicalType: string', 'name: nickname\n        logicalType: string\n        required: true'), 'customers.nickname', 'REQUIRED_CHANGED'],
    ['a tightened rule', (s: string) => s.replace('mustBeGreaterThan: 100', 'mustBeGreaterThan: 1000'), 'customers', 'QUALITY_CHANGED'],
    ['a new rule', (s: string) => s.replace('name: nickname\n        logicalType: string', 'name: nickname\n        logicalType: string\n        quality:\n          - metric: nullValues\n            mustBe: 0'), 'customers.nickname', 'QUALITY_ADDED'],
    ['a field that became PII', (s: string) => s.replace('name: nickname\n        logicalType: string', 'name: nickname\n        logicalType: string\n        classification: pii'), 'customers.nickname', 'CLASSIFICATION_CHANGED'],
    ['a unique key added', (s: string) => s.replace('name: nickname\n        logicalType: string', 'name: nickname\n        logicalType: string\n        unique: true'), 'customers.nickname', 'KEY_CHANGED'],
    ['a removed dataset', (s: string) => s.slice(0, s.indexOf('  - name: legacy')), 'legacy', 'DATASET_REMOVED'],
    ['a rule with other arguments', (s: string) => s.replace('mustBeLessThan: 10\n', 'mustBeLessThan: 10\n            arguments:\n              missingValues: [n/a]\n'), 'customers.email', 'QUALITY_CHANGED'],
    ['a rule measured in another unit', (s: string) => s.replace('unit: percent', 'unit: rows'), 'customers.email', 'QUALITY_CHANGED'],
  ])('classifies %s as breaking', (_what, change, path, kind) => {
    const log = edit(change);
    expect(log.breaking).toBe(true);
    expect(log.changes).toContainEqual(expect.objectContaining({ path, kind, breaking: true }));
  });

  it('treats a removed rule and a dropped key as non-breaking', () => {
    const log = edit((s) => s.replace('    quality:\n      - metric: rowCount\n        mustBeGreaterThan: 100\n', '').replace('        primaryKey: true\n', ''));
    expect(log.changes.map((c) => [c.path, c.kind, c.breaking])).toEqual([
      ['customers.id', 'KEY_CHANGED', false],
      ['customers', 'QUALITY_REMOVED', false],
    ]);
    expect(log.breaking).toBe(false);
  });
});
