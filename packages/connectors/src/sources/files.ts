import { constants } from 'node:fs';
import { access, open, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { METRIC, PreflightError } from '@preflight/core';
import { Type } from '@sinclair/typebox';
import { defineConfig, OneOf, Text, type ConfigOf } from '../config.js';
import type { ConnectorManifest, ConnectorModule, DiscoveredDataset, LogicalType, OperationContext } from '../facade.js';
import { runOperation } from '../operation.js';
import { parseCsv } from './csv.js';

export const filesConfig = defineConfig(
  'files',
  Type.Object({
    path: Text({ description: "a directory of *.csv / *.jsonl files, or one file, relative to the tenant's files root" }),
    format: Type.Optional(OneOf(['csv', 'jsonl'] as const)),
  }),
);
export type FilesConfig = ConfigOf<'files', typeof filesConfig.schema>;

/** Types are inferred from at most this many rows: discovery must stay fast on large files. */
const INFER_ROWS = 1_000;
/** Bytes read from a file for inference and sampling; files can be far bigger. */
const READ_BYTES = 16 * 1024 * 1024;

export const filesManifest: ConnectorManifest = {
  type: 'files',
  displayName: 'Local files (CSV, JSON Lines)',
  version: '1.0.0',
  class: 'data-movement',
  contract: {
    configSchema: filesConfig.input,
    secretFields: filesConfig.secretFields,
    endpoints: [],
    paths: ['path'],
  },
  retry: { retriableCodes: ['TIMEOUT'], attempts: 2, initialBackoffMs: 100, maxBackoffMs: 500 },
  timeouts: { handshake: 5_000, discover: 30_000, sample: 30_000, pushdown: 30_000, auditAccess: 5_000 },
  idempotency: { description: "the path in the tenant's files root", key: (c) => `files://${(c as FilesConfig).path}` },
  approvalHook: { name: 'pii-in-production', description: 'READY needs a security_admin approval when the contract has PII and the connector targets production' },
  audit: { fields: ['path', 'format'], redacted: [] },
  observability: { spans: ['connector.files.handshake', 'connector.files.discover', 'connector.files.sample', 'connector.files.auditAccess'], metrics: [METRIC.handshake_duration_ms, METRIC.schema_check_duration_ms] },
  rollback: 'Read-only: files are never modified. Remove the connector; the files stay as they are.',
};

const formatOf = (file: string, cfg: FilesConfig): 'csv' | 'jsonl' | undefined => {
  if (cfg.format) return cfg.format;
  const ext = extname(file).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
};

/**
 * What one operation context has listed and read. A schema check is one context: discovery
 * infers the types from a file and the checkpoint then samples the same file, and each listed the
 * path (a confined `realpath` per file) and read the file again: a third of a file source's check
 * (issue 14). Keyed by the context, so nothing outlives the check or crosses tenants, and the
 * checkpoint sees the very bytes discovery typed. A failed read is not kept: a retry reads again.
 */
const perContext = new WeakMap<OperationContext, Map<string, Promise<unknown>>>();
function cacheOf(ctx: OperationContext): Map<string, Promise<unknown>> {
  let cache = perContext.get(ctx);
  if (!cache) perContext.set(ctx, (cache = new Map<string, Promise<unknown>>()));
  return cache;
}
function once<T>(ctx: OperationContext, key: string, load: () => Promise<T>): Promise<T> {
  const cache = cacheOf(ctx);
  const hit = cache.get(key) as Promise<T> | undefined;
  if (hit) return hit;
  const p = load();
  cache.set(key, p);
  p.catch(() => cache.delete(key));
  return p;
}

/** The datasets under the configured path, each confined to the tenant's files root (a symlinked file included). */
function listFiles(cfg: FilesConfig, ctx: OperationContext): Promise<{ root: string; files: Map<string, string> }> {
  return once(ctx, `list\u0000${cfg.path}`, () => listFilesNow(cfg, ctx));
}
async function listFilesNow(cfg: FilesConfig, ctx: OperationContext): Promise<{ root: string; files: Map<string, string> }> {
  const root = await ctx.scope.path('config.path', cfg.path);
  let st;
  try {
    st = await stat(root);
  } catch (e) {
    throw new PreflightError('CONFIG', `config.path: ${cfg.path} does not exist or is not readable (${(e as NodeJS.ErrnoException).code})`, { cause: e, retriable: false });
  }
  const files = st.isDirectory() ? (await readdir(root)).map((f) => join(root, f)) : [root];
  const out = new Map<string, string>();
  for (const f of files.sort()) if (formatOf(f, cfg)) out.set(basename(f, extname(f)), await ctx.scope.path('config.path', f));
  return { root, files: out };
}

async function head(file: string): Promise<{ text: string; complete: boolean }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.min(size, READ_BYTES));
    await fh.read(buf, 0, buf.length, 0);
    let text = buf.toString('utf8');
    const complete = size <= READ_BYTES;
    if (!complete) text = text.slice(0, text.lastIndexOf('\n') + 1);
    return { text, complete };
  } finally {
    await fh.close();
  }
}

interface Rows {
  rows: Array<Record<string, unknown>>;
  truncated: boolean;
  columns: string[];
}

/**
 * Raw rows as read: CSV cells are strings ('' = missing); JSON Lines values as parsed. Within one
 * context a file is parsed once when the first parse held all of it (discovery's 1,000 rows are
 * the whole of most files, and the checkpoint's sample asks again): the rows are then cut, not
 * parsed again. Callers do not change the rows they get.
 */
async function readRows(file: string, cfg: FilesConfig, limit: number, ctx: OperationContext): Promise<Rows> {
  const key = `rows\u0000${file}`;
  const earlier = perContext.get(ctx)?.get(key) as Promise<Rows & { limit: number }> | undefined;
  const had = earlier && (await earlier.catch(() => undefined));
  if (had && (!had.truncated || had.limit >= limit)) {
    if (had.rows.length <= limit) return had;
    const rows = had.rows.slice(0, limit);
    return { rows, truncated: true, columns: formatOf(file, cfg) === 'csv' ? had.columns : columnsOf(rows) };
  }
  const parsed = parseRows(file, cfg, limit, ctx).then((r) => ({ ...r, limit }));
  cacheOf(ctx).set(key, parsed);
  return parsed;
}

const columnsOf = (rows: Array<Record<string, unknown>>): string[] => [...new Set(rows.flatMap((r) => Object.keys(r)))];

async function parseRows(file: string, cfg: FilesConfig, limit: number, ctx: OperationContext): Promise<Rows> {
  const { text, complete } = await once(ctx, `head\u0000${file}`, () => head(file));
  if (formatOf(file, cfg) === 'csv') {
    const { header, rows, truncated } = parseCsv(text, limit);
    return { columns: header, rows: rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] === undefined || r[i] === '' ? null : r[i]]))), truncated: truncated || !complete };
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const rows = lines.slice(0, limit).map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new PreflightError('SOURCE', `${basename(file)} line ${i + 1}: not valid JSON`, { retriable: false });
    }
  });
  return { columns: columnsOf(rows), rows, truncated: lines.length > limit || !complete };
}

const INT = /^-?\d+$/;
const NUM = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function inferType(values: unknown[]): LogicalType {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return 'unknown';
  const all = (test: (v: unknown) => boolean): boolean => present.every(test);
  if (all((v) => typeof v === 'boolean' || v === 'true' || v === 'false')) return 'boolean';
  if (all((v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && INT.test(v)))) return 'integer';
  if (all((v) => typeof v === 'number' || (typeof v === 'string' && NUM.test(v)))) return 'number';
  if (all((v) => typeof v === 'string' && DATE.test(v))) return 'date';
  if (all((v) => typeof v === 'string' && (TS.test(v) || DATE.test(v)))) return 'timestamp';
  if (all((v) => Array.isArray(v))) return 'array';
  if (all((v) => typeof v === 'object')) return 'object';
  return 'string';
}

function convert(v: unknown, t: LogicalType): unknown {
  if (v === null || v === undefined || typeof v !== 'string') return v ?? null;
  if (t === 'integer' || t === 'number') return Number(v);
  if (t === 'boolean') return v === 'true';
  return v;
}

async function discoverFile(name: string, file: string, cfg: FilesConfig, ctx: OperationContext): Promise<DiscoveredDataset> {
  const { rows, columns } = await readRows(file, cfg, INFER_ROWS, ctx);
  return {
    name,
    kind: 'file',
    primaryKey: [],
    fields: columns.map((c) => {
      const values = rows.map((r) => r[c]);
      return { name: c, logicalType: inferType(values), physicalType: formatOf(file, cfg) === 'csv' ? 'csv' : 'json', nullable: values.some((v) => v === null || v === undefined), primaryKey: false };
    }),
  };
}

export const filesConnector: ConnectorModule<FilesConfig> = {
  manifest: filesManifest,
  parseConfig: filesConfig.parse,

  async handshake(cfg, ctx: OperationContext) {
    const r = await runOperation(filesManifest, 'handshake', ctx, async () => {
      const t0 = performance.now();
      const { root, files } = await listFiles(cfg, ctx);
      await access(root, constants.R_OK);
      return { serverVersion: `local files (${files.size} dataset${files.size === 1 ? '' : 's'})`, principal: `uid:${process.getuid?.() ?? 'n/a'}`, latencyMs: performance.now() - t0, tls: { enabled: false } };
    });
    return { ...r.value, attempts: r.attempts, durationMs: r.durationMs };
  },

  async discover(cfg, ctx, opts) {
    const r = await runOperation(filesManifest, 'discover', ctx, async () => {
      const { files } = await listFiles(cfg, ctx);
      const wanted = opts?.datasets?.map((d) => d.toLowerCase());
      const out: DiscoveredDataset[] = [];
      for (const [name, file] of files) if (!wanted || wanted.includes(name.toLowerCase())) out.push(await discoverFile(name, file, cfg, ctx));
      return out;
    });
    return { datasets: r.value, durationMs: r.durationMs };
  },

  async sample(cfg, ctx, dataset, limit) {
    const r = await runOperation(filesManifest, 'sample', ctx, async () => {
      const file = (await listFiles(cfg, ctx)).files.get(dataset);
      if (!file) throw new PreflightError('SOURCE', `dataset ${dataset}: no such file under ${cfg.path}`, { retriable: false });
      const { rows, truncated, columns } = await readRows(file, cfg, limit, ctx);
      const types = new Map(columns.map((c) => [c, inferType(rows.map((x) => x[c]))] as const));
      return { rows: rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, convert(v, types.get(k) ?? 'string')]))), truncated };
    });
    return { dataset, ...r.value };
  },

  async auditAccess(cfg, ctx) {
    const r = await runOperation(filesManifest, 'auditAccess', ctx, async () => {
      const { files } = await listFiles(cfg, ctx);
      const readable: string[] = [];
      for (const [name, file] of files) {
        if (await access(file, constants.R_OK).then(() => true, () => false)) readable.push(name);
      }
      // The preflight only reads files; the process's own write access is not a credential's scope.
      return { principal: `uid:${process.getuid?.() ?? 'n/a'}`, superuser: false, canCreateRole: false, canCreateDb: false, readable, writable: [], grants: readable.map((object) => ({ object, privilege: 'READ' })), tls: false, host: 'localhost' };
    });
    return r.value;
  },
};
