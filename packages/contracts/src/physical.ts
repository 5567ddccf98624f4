/**
 * `physicalType` comparison after each engine's aliases are folded: PostgreSQL reports `integer`
 * for `int4`, `character(2)` for `char(2)`, `numeric(12,2)` for `decimal(12,2)`; MySQL reports
 * `tinyint(1)` for `bool`. Parameters (length, precision, scale) are enforced only when the
 * contract declares them, so a bare `varchar` accepts `character varying(255)` but `char(3)` does
 * not accept `character(2)` — the rule datacontract-cli applies, so both tools agree.
 */
export type SqlDialect = 'postgres' | 'mysql';

const COMMON: Record<string, string> = {
  int: 'integer',
  int4: 'integer',
  integer: 'integer',
  int2: 'smallint',
  smallint: 'smallint',
  int8: 'bigint',
  bigint: 'bigint',
  serial: 'integer',
  serial4: 'integer',
  bigserial: 'bigint',
  serial8: 'bigint',
  smallserial: 'smallint',
  decimal: 'numeric',
  numeric: 'numeric',
  dec: 'numeric',
  real: 'real',
  float4: 'real',
  'double precision': 'double',
  float8: 'double',
  double: 'double',
  char: 'char',
  character: 'char',
  bpchar: 'char',
  varchar: 'varchar',
  'character varying': 'varchar',
  text: 'text',
  bool: 'boolean',
  boolean: 'boolean',
  date: 'date',
  time: 'time',
  'time without time zone': 'time',
  timetz: 'timetz',
  'time with time zone': 'timetz',
  // A declared `timestamp` accepts either flavour: contracts are mostly written at that level.
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamp',
  'timestamp with time zone': 'timestamp',
  json: 'json',
  jsonb: 'jsonb',
  uuid: 'uuid',
  bytea: 'bytea',
};

const MYSQL: Record<string, string> = {
  ...COMMON,
  tinyint: 'tinyint',
  mediumint: 'mediumint',
  float: 'real',
  datetime: 'timestamp',
  // MySQL's BOOL is TINYINT(1); information_schema only ever reports the latter.
  bool: 'tinyint(1)',
  boolean: 'tinyint(1)',
  longtext: 'longtext',
  mediumtext: 'mediumtext',
};

const POSTGRES: Record<string, string> = { ...COMMON, float: 'double' };

export interface ParsedType {
  base: string;
  params: string[];
  array: boolean;
}

/** Splits a type name into its canonical base, its parameters and whether it is an array. */
export function parsePhysicalType(raw: string, dialect: SqlDialect = 'postgres'): ParsedType {
  let s = raw.trim().toLowerCase().replace(/\s+/g, ' ');
  let array = false;
  if (s.endsWith('[]')) {
    array = true;
    s = s.replace(/(\[\])+$/, '').trim();
  }
  if (/^array<.*>$/.test(s)) {
    array = true;
    s = s.slice(6, -1).trim();
  }
  if (s.startsWith('_')) {
    array = true;
    s = s.slice(1);
  }
  // `character varying(12)`, `timestamp(3) with time zone`: parameters may sit mid-name.
  const params = [...s.matchAll(/\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(',').map((p) => p.trim()).filter(Boolean));
  const name = s.replace(/\([^)]*\)/g, '').replace(/\s+/g, ' ').trim();
  const aliases = dialect === 'mysql' ? MYSQL : POSTGRES;
  const canon = aliases[`${name}(${params.join(',')})`] ?? aliases[name] ?? name;
  const m = /^(.*)\((.*)\)$/.exec(canon);
  if (m) return { base: m[1]!, params: m[2]!.split(','), array };
  return { base: canon, params, array };
}

/** Whether the source's native type satisfies the contract's physicalType. */
export function physicalTypeMatches(declared: string, actual: string, dialect: SqlDialect = 'postgres'): boolean {
  const d = parsePhysicalType(declared, dialect);
  const a = parsePhysicalType(actual, dialect);
  if (d.base !== a.base || d.array !== a.array) return false;
  if (d.params.length === 0) return true;
  const pad = (p: string[]): string[] => (d.base === 'numeric' && p.length === 1 ? [...p, '0'] : p);
  return JSON.stringify(pad(d.params)) === JSON.stringify(pad(a.params));
}
