import { isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import pg from 'pg';
import { PreflightError } from '@preflight/core';
import { Type } from '@sinclair/typebox';
import { defineConfig, OneOf, Port, SecretRef, Text, type ConfigOf } from '../config.js';
import { networkError, sourceError } from '../errors.js';
import type { AccessFacts, ConnectorManifest, ConnectorModule, DiscoveredDataset, LogicalType, OperationContext } from '../facade.js';
import { runOperation } from '../operation.js';
import { withSession, type SessionDriver } from '../sessions.js';
import { sqlManifest } from './sql-manifest.js';

const TLS_MODES = ['disable', 'prefer', 'require', 'verify-full'] as const;

export const postgresConfig = defineConfig(
  'postgres',
  Type.Object({
    host: Text(),
    port: Port(5432),
    database: Text(),
    user: Text(),
    secretRef: SecretRef("env:NAME or file:path in the tenant's secrets namespace, holding the password"),
    schema: Type.String({ default: 'public' }),
    tls: Type.Object({ mode: OneOf(TLS_MODES, { default: 'prefer' }) }, { default: {} }),
  }),
);
export type PostgresConfig = ConfigOf<'postgres', typeof postgresConfig.schema>;

export const postgresManifest: ConnectorManifest = sqlManifest({
  type: 'postgres',
  displayName: 'PostgreSQL',
  config: postgresConfig,
  defaultPort: 5432,
  identity: 'host:port/database as user — one source identity per connector',
  auditFields: ['host', 'port', 'database', 'user', 'schema', 'tls.mode'],
  rollback: 'Read-only: the connector never writes to the source. Removing it needs only dropping its role grants (REVOKE SELECT …) and deleting the secret.',
});

function mapError(e: unknown, cfg: PostgresConfig, secret: string): PreflightError {
  if (e instanceof PreflightError) return e;
  const where = `postgres ${cfg.host}:${cfg.port}/${cfg.database}`;
  const net = networkError(e, where, [secret]);
  if (net) return net;
  const pgErr = e as { code?: string; message?: string; routine?: string };
  const m = pgErr.message ?? String(e);
  switch (pgErr.code) {
    case '28P01':
    case '28000':
      return sourceError('AUTH', `${where}: authentication failed for user "${cfg.user}" (${m}); check the secret behind ${cfg.secretRef}`, e, [secret]);
    case '42501':
      return sourceError('PERMISSION', `${where}: permission denied for user "${cfg.user}": ${m}; grant the missing privilege (e.g. GRANT SELECT ON <table> TO ${cfg.user})`, e, [secret]);
    case '3D000':
      return sourceError('CONFIG', `config.database: ${m}`, e, [secret]);
    case '57014':
      return sourceError('TIMEOUT', `${where}: statement cancelled: ${m}`, e, [secret], true);
    default:
      if (/SSL|TLS|certificate/i.test(m)) return sourceError('TLS', `${where}: ${m} (check config.tls.mode)`, e, [secret]);
      if (/timeout/i.test(m)) return sourceError('TIMEOUT', `${where}: ${m}`, e, [secret], true);
      if (/Connection terminated/i.test(m)) return sourceError('CONNECTIVITY', `${where}: ${m}`, e, [secret], true);
      return sourceError('SOURCE', `${where}: PostgreSQL said: "${m}"${pgErr.code ? ` (SQLSTATE ${pgErr.code})` : ''}`, e, [secret]);
  }
}

/** Tears a client's socket down at once (an abort must not wait for the server). */
function destroy(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** A connected client and the secret it used (errors are redacted with it). */
interface Session {
  client: pg.Client;
  secret: string;
}

/** Connects to the checked address with the tenant's secret; `prefer` falls back to plaintext once. */
async function connect(cfg: PostgresConfig, ctx: OperationContext, signal: AbortSignal): Promise<Session> {
  // The address is checked before the secret is read, and the client connects to the checked
  // address, not to the name: a second DNS answer cannot move the connection.
  const target = await ctx.scope.address('config.host', cfg.host, cfg.port);
  const secret = await ctx.scope.secret('config.secretRef', cfg.secretRef, signal);
  const sni = isIP(cfg.host) ? {} : { servername: cfg.host };
  const ssl = cfg.tls.mode === 'disable' ? false : { rejectUnauthorized: cfg.tls.mode === 'verify-full', ...sni };
  const client = new pg.Client({ host: target.address, port: cfg.port, database: cfg.database, user: cfg.user, password: secret.value, ssl, application_name: 'connector-preflight' });
  client.on('error', () => undefined);
  const kill = (): void => destroy(client);
  signal.addEventListener('abort', kill, { once: true });
  try {
    await client.connect();
    return { client, secret: secret.value };
  } catch (e) {
    kill();
    // `prefer`: a server without TLS is acceptable, so retry once in plaintext.
    if (cfg.tls.mode === 'prefer' && /does not support SSL/i.test((e as Error).message)) return connect({ ...cfg, tls: { mode: 'disable' } }, ctx, signal);
    throw mapError(e, cfg, secret.value);
  } finally {
    signal.removeEventListener('abort', kill);
  }
}

/** Ends the session politely (the server's backend exits at once), and tears it down if that hangs. */
async function close(s: Session): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = s.client.end().then(
    () => true,
    () => false,
  );
  const gave = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 1_000)));
  if (!(await Promise.race([ended, gave]))) destroy(s.client);
  clearTimeout(timer);
}

/**
 * Runs `fn` on a client: the check's shared session when the context has one (read-only, in the
 * configured schema; see withSession), else a client of its own. A server error (an SQLSTATE)
 * leaves a shared session usable.
 */
async function withClient<T>(cfg: PostgresConfig, ctx: OperationContext, signal: AbortSignal, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const key = `postgres\u0000${cfg.host}\u0000${cfg.port}\u0000${cfg.database}\u0000${cfg.user}\u0000${cfg.secretRef}\u0000${cfg.tls.mode}\u0000${cfg.schema}`;
  let secret = '';
  const driver: SessionDriver<Session> = {
    open: async (shared) => {
      const opened = await connect(cfg, ctx, signal);
      if (!shared) return opened;
      try {
        // One round trip (a simple query may hold several statements): every transaction of this
        // session is read-only, as contract sql rules run here, and unqualified contract table
        // names resolve in the configured schema.
        await opened.client.query(
          `SET statement_timeout = ${Math.floor(ctx.timeoutMs ?? postgresManifest.timeouts.pushdown)}; SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; SET search_path = ${quoteIdent(cfg.schema)}`,
        );
      } catch (e) {
        await close(opened);
        throw mapError(e, cfg, opened.secret);
      }
      return opened;
    },
    close,
    destroy: (s) => destroy(s.client),
    usableAfter: (e) => e instanceof pg.DatabaseError || e instanceof PreflightError,
  };
  try {
    return await withSession(ctx.sessions, key, signal, driver, (s) => ((secret = s.secret), fn(s.client)));
  } catch (e) {
    throw mapError(e, cfg, secret);
  }
}

function tlsOf(c: pg.Client): { enabled: boolean; protocol?: string; cipher?: string } {
  const stream = (c as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  if (stream instanceof TLSSocket) return { enabled: true, protocol: stream.getProtocol() ?? undefined, cipher: stream.getCipher()?.name };
  return { enabled: false };
}

/** Logical type from the catalog's type name and category (pg_type.typname / typcategory). */
export function pgLogicalType(typname: string, category: string): LogicalType {
  if (category === 'A') return 'array';
  if (['int2', 'int4', 'int8'].includes(typname)) return 'integer';
  if (['numeric', 'float4', 'float8', 'money'].includes(typname)) return 'number';
  if (typname === 'bool') return 'boolean';
  if (typname === 'date') return 'date';
  if (typname === 'timestamp' || typname === 'timestamptz') return 'timestamp';
  if (typname === 'json' || typname === 'jsonb') return 'object';
  if (typname === 'bytea') return 'binary';
  if (category === 'S' || category === 'E' || ['uuid', 'time', 'timetz', 'interval', 'inet', 'cidr', 'macaddr', 'xml'].includes(typname)) return 'string';
  return 'unknown';
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const tableRef = (cfg: PostgresConfig, dataset: string): string => (dataset.includes('.') ? dataset.split('.').map(quoteIdent).join('.') : `${quoteIdent(cfg.schema)}.${quoteIdent(dataset)}`);

export const postgresConnector: ConnectorModule<PostgresConfig> = {
  manifest: postgresManifest,
  parseConfig: postgresConfig.parse,

  async handshake(cfg, ctx) {
    const r = await runOperation(postgresManifest, 'handshake', ctx, (signal) =>
      withClient(cfg, ctx, signal, async (c) => {
        const t0 = performance.now();
        await c.query('SELECT 1');
        const latencyMs = performance.now() - t0;
        const row = (await c.query<{ v: string; u: string }>('SELECT version() AS v, current_user AS u')).rows[0];
        return { serverVersion: row?.v.split(' on ')[0] ?? 'PostgreSQL', principal: row?.u ?? cfg.user, latencyMs, tls: tlsOf(c) };
      }),
    );
    return { ...r.value, attempts: r.attempts, durationMs: r.durationMs };
  },

  async discover(cfg, ctx, opts) {
    const r = await runOperation(postgresManifest, 'discover', ctx, (signal) =>
      withClient(cfg, ctx, signal, async (c) => {
        // One catalog query for every table: discovery time must not grow with round trips.
        // pg_catalog, not information_schema: the latter hides keys of tables the role only reads.
        const res = await c.query<{ table_schema: string; table_name: string; relkind: string; column_name: string; physical: string; typname: string; typcategory: string; nullable: boolean; pk: boolean }>(
          `SELECT n.nspname AS table_schema, c.relname AS table_name, c.relkind, a.attname AS column_name,
                  format_type(a.atttypid, a.atttypmod) AS physical, t.typname, t.typcategory, NOT a.attnotnull AS nullable,
                  COALESCE(a.attnum = ANY (k.conkey), false) AS pk
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
           WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
           ORDER BY c.relname, a.attnum`,
          [cfg.schema],
        );
        const wanted = opts?.datasets?.map((d) => d.toLowerCase().split('.').pop()!);
        const byTable = new Map<string, DiscoveredDataset>();
        for (const row of res.rows) {
          if (wanted && !wanted.includes(row.table_name.toLowerCase())) continue;
          let ds = byTable.get(row.table_name);
          if (!ds) {
            ds = { name: row.table_name, namespace: row.table_schema, kind: row.relkind === 'v' || row.relkind === 'm' ? 'view' : 'table', fields: [], primaryKey: [] };
            byTable.set(row.table_name, ds);
          }
          ds.fields.push({ name: row.column_name, logicalType: pgLogicalType(row.typname, row.typcategory), physicalType: row.physical, nullable: row.nullable, primaryKey: row.pk });
          if (row.pk) ds.primaryKey.push(row.column_name);
        }
        return [...byTable.values()];
      }),
    );
    return { datasets: r.value, durationMs: r.durationMs };
  },

  async sample(cfg, ctx, dataset, limit) {
    const r = await runOperation(postgresManifest, 'sample', ctx, (signal) =>
      withClient(cfg, ctx, signal, async (c) => (await c.query(`SELECT * FROM ${tableRef(cfg, dataset)} LIMIT $1`, [limit + 1])).rows as Array<Record<string, unknown>>),
    );
    return { dataset, rows: r.value.slice(0, limit), truncated: r.value.length > limit };
  },

  pushdown: {
    dialect: 'postgres',
    quoteIdent,
    async query(cfg, ctx, sql, params) {
      const r = await runOperation(postgresManifest, 'pushdown', ctx, (signal) =>
        withClient(cfg, ctx, signal, async (c) => {
          if (!ctx.sessions) {
            // A shared session was set up like this when it opened.
            await c.query(`SET statement_timeout = ${Math.floor(ctx.timeoutMs ?? postgresManifest.timeouts.pushdown)}`);
            await c.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
            await c.query(`SET search_path = ${quoteIdent(cfg.schema)}`);
          }
          return (await c.query(sql, params)).rows as Array<Record<string, unknown>>;
        }),
      );
      return r.value;
    },
  },

  async auditAccess(cfg, ctx, _datasets) {
    const r = await runOperation(postgresManifest, 'auditAccess', ctx, (signal) =>
      withClient(cfg, ctx, signal, async (c): Promise<AccessFacts> => {
        const role = (await c.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean }>('SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user')).rows[0];
        const tables = await c.query<{ nspname: string; relname: string; sel: boolean; ins: boolean; upd: boolean; del: boolean; trn: boolean }>(
          `SELECT n.nspname, c.relname,
                  has_table_privilege(c.oid, 'SELECT') AS sel, has_table_privilege(c.oid, 'INSERT') AS ins,
                  has_table_privilege(c.oid, 'UPDATE') AS upd, has_table_privilege(c.oid, 'DELETE') AS del,
                  has_table_privilege(c.oid, 'TRUNCATE') AS trn
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
        );
        const grants: AccessFacts['grants'] = [];
        const readable: string[] = [];
        const writable: string[] = [];
        for (const t of tables.rows) {
          const name = `${t.nspname}.${t.relname}`;
          const privs = (['sel', 'ins', 'upd', 'del', 'trn'] as const).filter((k) => t[k]).map((k) => ({ sel: 'SELECT', ins: 'INSERT', upd: 'UPDATE', del: 'DELETE', trn: 'TRUNCATE' })[k]);
          for (const p of privs) grants.push({ object: name, privilege: p });
          if (t.sel) readable.push(name);
          if (t.ins || t.upd || t.del || t.trn) writable.push(name);
        }
        return { principal: role?.rolname ?? cfg.user, superuser: role?.rolsuper ?? false, canCreateRole: role?.rolcreaterole ?? false, canCreateDb: role?.rolcreatedb ?? false, readable, writable, grants, tls: tlsOf(c).enabled, host: cfg.host };
      }),
    );
    return r.value;
  },
};
