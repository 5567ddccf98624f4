import { isIP } from 'node:net';
import mysql from 'mysql2/promise';
import { PreflightError } from '@preflight/core';
import { Type } from '@sinclair/typebox';
import { defineConfig, OneOf, Port, SecretRef, Text, type ConfigOf } from '../config.js';
import { networkError, sourceError } from '../errors.js';
import type { AccessFacts, ConnectorManifest, ConnectorModule, DiscoveredDataset, LogicalType, OperationContext } from '../facade.js';
import { runOperation } from '../operation.js';
import { withSession, type SessionDriver } from '../sessions.js';
import { sqlManifest } from './sql-manifest.js';

export const mysqlConfig = defineConfig(
  'mysql',
  Type.Object({
    host: Text(),
    port: Port(3306),
    database: Text(),
    user: Text(),
    secretRef: SecretRef(),
    tls: Type.Object({ mode: OneOf(['disable', 'prefer', 'require', 'verify-full'] as const, { default: 'disable' }) }, { default: {} }),
  }),
);
export type MysqlConfig = ConfigOf<'mysql', typeof mysqlConfig.schema>;

export const mysqlManifest: ConnectorManifest = sqlManifest({
  type: 'mysql',
  displayName: 'MySQL / MariaDB',
  config: mysqlConfig,
  defaultPort: 3306,
  identity: 'host:port/database as user',
  auditFields: ['host', 'port', 'database', 'user', 'tls.mode'],
  rollback: 'Read-only: the connector never writes. To remove it, REVOKE its grants, DROP USER, delete the secret.',
});

function mapError(e: unknown, cfg: MysqlConfig, secret: string): PreflightError {
  if (e instanceof PreflightError) return e;
  const where = `mysql ${cfg.host}:${cfg.port}/${cfg.database}`;
  const net = networkError(e, where, [secret]);
  if (net) return net;
  const err = e as { code?: string; errno?: number; sqlMessage?: string; message?: string };
  const m = err.sqlMessage ?? err.message ?? String(e);
  switch (err.code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_NOT_SUPPORTED_AUTH_MODE':
      return sourceError('AUTH', `${where}: authentication failed for user "${cfg.user}" (${m}); check the secret behind ${cfg.secretRef}`, e, [secret]);
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_TABLEACCESS_DENIED_ERROR':
    case 'ER_COLUMNACCESS_DENIED_ERROR':
    case 'ER_SPECIFIC_ACCESS_DENIED_ERROR':
      return sourceError('PERMISSION', `${where}: ${m}; grant the missing privilege (e.g. GRANT SELECT ON ${cfg.database}.<table> TO '${cfg.user}')`, e, [secret]);
    case 'ER_BAD_DB_ERROR':
      return sourceError('CONFIG', `config.database: ${m}`, e, [secret]);
    case 'PROTOCOL_CONNECTION_LOST':
      return sourceError('CONNECTIVITY', `${where}: connection lost: ${m}`, e, [secret], true);
    case 'HANDSHAKE_NO_SSL_SUPPORT':
      return sourceError('TLS', `${where}: the server does not offer TLS (config.tls.mode)`, e, [secret]);
    default:
      return sourceError('SOURCE', `${where}: MySQL said: "${m}"${err.code ? ` (${err.code})` : ''}`, e, [secret]);
  }
}

/** Connects to the checked address with the tenant's secret; returns the connection and the secret (errors are redacted with it). */
async function connect(cfg: MysqlConfig, ctx: OperationContext, signal: AbortSignal, timeoutMs: number): Promise<{ conn: mysql.Connection; secret: string }> {
  // Checked before the secret is read; the connection goes to the checked address, not the name.
  const target = await ctx.scope.address('config.host', cfg.host, cfg.port);
  const secret = await ctx.scope.secret('config.secretRef', cfg.secretRef, signal);
  try {
    const conn = await mysql.createConnection({
      host: target.address,
      port: cfg.port,
      user: cfg.user,
      password: secret.value,
      database: cfg.database,
      connectTimeout: timeoutMs,
      ...(cfg.tls.mode === 'disable' ? {} : { ssl: { rejectUnauthorized: cfg.tls.mode === 'verify-full', ...(isIP(cfg.host) ? {} : { servername: cfg.host }) } }),
    });
    conn.on('error', () => undefined);
    return { conn, secret: secret.value };
  } catch (e) {
    throw mapError(e, cfg, secret.value);
  }
}

/**
 * Runs `fn` on a connection: the check's shared session when the context has one (read-only; see
 * withSession), else a connection of its own. A server error (an SQL state, not fatal) leaves a
 * shared session usable.
 */
async function withConn<T>(cfg: MysqlConfig, ctx: OperationContext, signal: AbortSignal, timeoutMs: number, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const key = `mysql\u0000${cfg.host}\u0000${cfg.port}\u0000${cfg.database}\u0000${cfg.user}\u0000${cfg.secretRef}\u0000${cfg.tls.mode}`;
  let secret = '';
  const driver: SessionDriver<{ conn: mysql.Connection; secret: string }> = {
    open: async (shared) => {
      const s = await connect(cfg, ctx, signal, timeoutMs);
      if (!shared) return s;
      try {
        // Contract sql rules run here: every transaction of this session is read-only.
        await s.conn.query('SET SESSION TRANSACTION READ ONLY');
      } catch (e) {
        s.conn.destroy();
        throw mapError(e, cfg, s.secret);
      }
      return s;
    },
    close: async (s) => {
      await s.conn.end().catch(() => s.conn.destroy());
    },
    destroy: (s) => s.conn.destroy(),
    usableAfter: (e) => (e as { fatal?: unknown }).fatal !== true && (e instanceof PreflightError || typeof (e as { sqlState?: unknown }).sqlState === 'string'),
  };
  try {
    return await withSession(ctx.sessions, key, signal, driver, (s) => ((secret = s.secret), fn(s.conn)));
  } catch (e) {
    throw mapError(e, cfg, secret);
  }
}

export function mysqlLogicalType(dataType: string, columnType: string): LogicalType {
  const t = dataType.toLowerCase();
  if (t === 'tinyint' && /tinyint\(1\)/i.test(columnType)) return 'boolean';
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year'].includes(t)) return 'integer';
  if (['decimal', 'numeric', 'float', 'double', 'real'].includes(t)) return 'number';
  if (['bit', 'bool', 'boolean'].includes(t)) return 'boolean';
  if (t === 'date') return 'date';
  if (t === 'datetime' || t === 'timestamp') return 'timestamp';
  if (t === 'json') return 'object';
  if (['blob', 'tinyblob', 'mediumblob', 'longblob', 'binary', 'varbinary'].includes(t)) return 'binary';
  if (['char', 'varchar', 'text', 'tinytext', 'mediumtext', 'longtext', 'enum', 'set', 'time'].includes(t)) return 'string';
  return 'unknown';
}

const quoteIdent = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** One `SHOW GRANTS` line → privileges and the object they cover (`*.*`, `db.*`, `db.table`). */
export function parseGrant(line: string): { privileges: string[]; on: string; withGrant: boolean } | undefined {
  const m = /^GRANT (.+?) ON (\S+) TO /i.exec(line);
  if (!m) return undefined;
  const privileges = m[1]!.split(',').map((p) => p.trim().replace(/\s*\(.*\)$/, '').toUpperCase());
  return { privileges, on: m[2]!.replace(/`/g, ''), withGrant: /WITH GRANT OPTION/i.test(line) };
}

const WRITE = ['ALL PRIVILEGES', 'ALL', 'INSERT', 'UPDATE', 'DELETE', 'DROP', 'ALTER', 'CREATE', 'INDEX'];

export const mysqlConnector: ConnectorModule<MysqlConfig> = {
  manifest: mysqlManifest,
  parseConfig: mysqlConfig.parse,

  async handshake(cfg, ctx) {
    const r = await runOperation(mysqlManifest, 'handshake', ctx, (signal) =>
      withConn(cfg, ctx, signal, ctx.timeoutMs ?? mysqlManifest.timeouts.handshake, async (c) => {
        const t0 = performance.now();
        await c.query('SELECT 1');
        const latencyMs = performance.now() - t0;
        const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v, CURRENT_USER() AS u');
        const [ssl] = await c.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')");
        const status = new Map(ssl.map((s) => [String(s['Variable_name']), String(s['Value'])]));
        const protocol = status.get('Ssl_version');
        const v = String(rows[0]?.['v'] ?? '');
        return {
          serverVersion: /mariadb/i.test(v) ? `MariaDB ${v.split('-')[0]}` : `MySQL ${v}`,
          principal: String(rows[0]?.['u'] ?? cfg.user).split('@')[0] ?? cfg.user,
          latencyMs,
          tls: protocol ? { enabled: true, protocol, cipher: status.get('Ssl_cipher') } : { enabled: false },
        };
      }),
    );
    return { ...r.value, attempts: r.attempts, durationMs: r.durationMs };
  },

  async discover(cfg, ctx, opts) {
    const r = await runOperation(mysqlManifest, 'discover', ctx, (signal) =>
      withConn(cfg, ctx, signal, mysqlManifest.timeouts.discover, async (c) => {
        const [rows] = await c.query<mysql.RowDataPacket[]>(
          `SELECT c.TABLE_NAME AS t, t.TABLE_TYPE AS tt, c.COLUMN_NAME AS col, c.DATA_TYPE AS dt, c.COLUMN_TYPE AS ct, c.IS_NULLABLE AS nul, c.COLUMN_KEY AS ck
           FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
           WHERE c.TABLE_SCHEMA = ? ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
          [cfg.database],
        );
        const wanted = opts?.datasets?.map((d) => d.toLowerCase().split('.').pop()!);
        const byTable = new Map<string, DiscoveredDataset>();
        for (const row of rows) {
          const t = String(row['t']);
          if (wanted && !wanted.includes(t.toLowerCase())) continue;
          let ds = byTable.get(t);
          if (!ds) {
            ds = { name: t, namespace: cfg.database, kind: row['tt'] === 'VIEW' ? 'view' : 'table', fields: [], primaryKey: [] };
            byTable.set(t, ds);
          }
          const pk = row['ck'] === 'PRI';
          ds.fields.push({ name: String(row['col']), logicalType: mysqlLogicalType(String(row['dt']), String(row['ct'])), physicalType: String(row['ct']), nullable: row['nul'] === 'YES', primaryKey: pk });
          if (pk) ds.primaryKey.push(String(row['col']));
        }
        return [...byTable.values()];
      }),
    );
    return { datasets: r.value, durationMs: r.durationMs };
  },

  async sample(cfg, ctx, dataset, limit) {
    const r = await runOperation(mysqlManifest, 'sample', ctx, (signal) =>
      withConn(cfg, ctx, signal, mysqlManifest.timeouts.sample, async (c) => {
        const [rows] = await c.query<mysql.RowDataPacket[]>(`SELECT * FROM ${quoteIdent(dataset)} LIMIT ?`, [limit + 1]);
        return rows;
      }),
    );
    return { dataset, rows: r.value.slice(0, limit), truncated: r.value.length > limit };
  },

  pushdown: {
    dialect: 'mysql',
    quoteIdent,
    async query(cfg, ctx, sql, params) {
      const r = await runOperation(mysqlManifest, 'pushdown', ctx, (signal) =>
        withConn(cfg, ctx, signal, mysqlManifest.timeouts.pushdown, async (c) => {
          // Contract sql rules run here: every transaction of this session is read-only (a shared
          // session was made so when it opened).
          if (!ctx.sessions) await c.query('SET SESSION TRANSACTION READ ONLY');
          const [rows] = await c.query<mysql.RowDataPacket[]>({ sql, timeout: ctx.timeoutMs ?? mysqlManifest.timeouts.pushdown }, params);
          return rows;
        }),
      );
      return r.value;
    },
  },

  async auditAccess(cfg, ctx) {
    const r = await runOperation(mysqlManifest, 'auditAccess', ctx, (signal) =>
      withConn(cfg, ctx, signal, mysqlManifest.timeouts.auditAccess, async (c): Promise<AccessFacts> => {
        const [grantRows] = await c.query<mysql.RowDataPacket[]>('SHOW GRANTS');
        const [tables] = await c.query<mysql.RowDataPacket[]>('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [cfg.database]);
        const [who] = await c.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS u');
        const [ssl] = await c.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_version'");
        const grants = grantRows.map((g) => parseGrant(String(Object.values(g)[0]))).filter((g): g is NonNullable<typeof g> => !!g);
        const covers = (on: string, table: string): boolean => on === '*.*' || on === `${cfg.database}.*` || on === `${cfg.database}.${table}`;
        const global = grants.filter((g) => g.on === '*.*').flatMap((g) => g.privileges);
        const readable: string[] = [];
        const writable: string[] = [];
        const flat: AccessFacts['grants'] = [];
        for (const g of grants) for (const p of g.privileges) if (p !== 'USAGE') flat.push({ object: g.on, privilege: p });
        for (const row of tables) {
          const t = String(row['t']);
          const privs = grants.filter((g) => covers(g.on, t)).flatMap((g) => g.privileges);
          if (privs.some((p) => p === 'SELECT' || p.startsWith('ALL'))) readable.push(`${cfg.database}.${t}`);
          if (privs.some((p) => WRITE.includes(p))) writable.push(`${cfg.database}.${t}`);
        }
        return {
          principal: String(who[0]?.['u'] ?? cfg.user).split('@')[0] ?? cfg.user,
          superuser: global.some((p) => p.startsWith('ALL') || p === 'SUPER'),
          canCreateRole: global.some((p) => p.startsWith('ALL') || p === 'CREATE USER' || p === 'CREATE ROLE'),
          canCreateDb: global.some((p) => p.startsWith('ALL') || p === 'CREATE'),
          readable,
          writable,
          grants: flat,
          tls: ssl.some((s) => String(s['Value'] ?? '') !== ''),
          host: cfg.host,
        };
      }),
    );
    return r.value;
  },
};
