import { columnName, customProperty, datasetName, isPii, type DataContract, type OdcsLogicalType } from './contract.js';
import { physicalTypeMatches, type SqlDialect } from './physical.js';

/** What `@preflight/connectors`' discover returns, structurally. */
export type SourceLogicalType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'timestamp' | 'object' | 'array' | 'binary' | 'unknown';
export interface SourceSchema {
  datasets: Array<{
    name: string;
    namespace?: string | undefined;
    kind: string;
    fields: Array<{ name: string; logicalType: SourceLogicalType; physicalType: string; nullable: boolean; primaryKey: boolean }>;
    primaryKey: string[];
  }>;
}

export type DiffKind = 'MISSING_DATASET' | 'MISSING_FIELD' | 'TYPE_MISMATCH' | 'PHYSICAL_TYPE' | 'NULLABILITY' | 'PRIMARY_KEY' | 'UNEXPECTED_FIELD' | 'PERMISSION' | 'SERVER_CONFLICT';
export interface DiffEntry {
  kind: DiffKind;
  dataset: string;
  field?: string;
  expected?: string;
  actual?: string;
  severity: 'ERROR' | 'WARNING';
  message: string;
  pii: boolean;
}

/**
 * Which source types satisfy a contract type. Wider-but-lossless is fine (an integer column for a
 * `number`); anything that could lose or misread values is a mismatch. `time` has no source type
 * of its own in most drivers, so a string is accepted for it.
 */
const ACCEPTS: Record<OdcsLogicalType, SourceLogicalType[]> = {
  string: ['string'],
  integer: ['integer'],
  number: ['number', 'integer'],
  boolean: ['boolean'],
  date: ['date'],
  timestamp: ['timestamp'],
  time: ['string'],
  object: ['object'],
  array: ['array'],
};

/**
 * `dialect` (a SQL source) turns on the physicalType comparison: a declared physicalType is then
 * checked instead of the logical type, as datacontract-cli does where the catalog has native types.
 */
export function diffSchema(contract: DataContract, source: SourceSchema, policy?: { unexpectedFields?: 'allow' | 'fail'; dialect?: SqlDialect }): { status: 'PASS' | 'FAIL'; entries: DiffEntry[] } {
  const unexpected = policy?.unexpectedFields ?? (customProperty(contract, 'unexpectedFields') === 'fail' ? 'fail' : 'allow');
  const entries: DiffEntry[] = [];
  const find = (name: string): SourceSchema['datasets'][number] | undefined => {
    const want = name.toLowerCase();
    return source.datasets.find((d) => d.name.toLowerCase() === want || `${d.namespace ?? ''}.${d.name}`.toLowerCase() === want);
  };
  for (const o of contract.schema) {
    const ds = datasetName(o);
    const found = find(ds);
    if (!found) {
      entries.push({ kind: 'MISSING_DATASET', dataset: ds, expected: 'present', actual: 'absent', severity: 'ERROR', message: `dataset ${ds} is in the contract but not in the source`, pii: o.properties.some(isPii) });
      continue;
    }
    const fields = new Map(found.fields.map((f) => [f.name.toLowerCase(), f] as const));
    for (const p of o.properties) {
      const col = columnName(p);
      const pii = isPii(p);
      const f = fields.get(col.toLowerCase());
      if (!f) {
        entries.push({ kind: 'MISSING_FIELD', dataset: ds, field: col, expected: p.logicalType ?? 'present', actual: 'absent', severity: 'ERROR', message: `${ds}.${col} is in the contract but not in the source`, pii });
        continue;
      }
      if (policy?.dialect && p.physicalType) {
        if (!physicalTypeMatches(p.physicalType, f.physicalType, policy.dialect)) {
          entries.push({ kind: 'PHYSICAL_TYPE', dataset: ds, field: col, expected: p.physicalType, actual: f.physicalType, severity: 'ERROR', message: `${ds}.${col} should have physical type ${p.physicalType} but the source has ${f.physicalType}`, pii });
        }
      } else if (p.logicalType && !ACCEPTS[p.logicalType].includes(f.logicalType)) {
        entries.push({ kind: 'TYPE_MISMATCH', dataset: ds, field: col, expected: p.logicalType, actual: `${f.logicalType} (${f.physicalType})`, severity: 'ERROR', message: `${ds}.${col} should be ${p.logicalType} but the source has ${f.physicalType}`, pii });
      }
      if ((p.required || p.primaryKey) && f.nullable) {
        entries.push({ kind: 'NULLABILITY', dataset: ds, field: col, expected: 'not null', actual: 'nullable', severity: 'ERROR', message: `${ds}.${col} is required by the contract but nullable in the source`, pii });
      }
      if (p.primaryKey && found.primaryKey.length > 0 && !found.primaryKey.some((k) => k.toLowerCase() === col.toLowerCase())) {
        entries.push({ kind: 'PRIMARY_KEY', dataset: ds, field: col, expected: 'primary key', actual: `primary key (${found.primaryKey.join(', ')})`, severity: 'WARNING', message: `${ds}.${col} is a primary key in the contract but not in the source`, pii });
      }
    }
    const declared = new Set(o.properties.map((p) => columnName(p).toLowerCase()));
    for (const f of found.fields) {
      if (declared.has(f.name.toLowerCase())) continue;
      entries.push({
        kind: 'UNEXPECTED_FIELD',
        dataset: ds,
        field: f.name,
        expected: 'absent',
        actual: f.logicalType,
        severity: unexpected === 'fail' ? 'ERROR' : 'WARNING',
        message: `${ds}.${f.name} is in the source but not in the contract (policy: ${unexpected})`,
        pii: false,
      });
    }
  }
  return { status: entries.some((e) => e.severity === 'ERROR') ? 'FAIL' : 'PASS', entries };
}
