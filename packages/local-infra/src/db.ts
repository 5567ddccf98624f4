import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { freePort, portOpen, waitFor } from './net.js';

export interface DbServerHandle {
  host: '127.0.0.1';
  port: number;
  adminUser: string;
  adminPassword: string;
  /** Runs SQL as the admin user (in the default database). */
  exec(sql: string): Promise<void>;
  stop(): Promise<void>;
}

export interface DbServerOptions {
  port?: number;
  dir?: string;
  log?: (line: string) => void;
}

function idOf(user: string): { uid: number; gid: number } | undefined {
  const u = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  for (const name of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, name.name);
    if (name.isDirectory()) chownTree(p, owner);
    else chownSync(p, owner.uid, owner.gid);
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions[0]) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: install the Debian package `postgresql` (apt-get install postgresql)');
  return join(root, versions[0], 'bin');
}

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1: initdb into a temp dir, password auth over TCP,
 * TLS with a self-signed certificate (so the TLS paths are real), durability off for speed.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS user.
 */
export async function startPostgres(options: DbServerOptions = {}): Promise<DbServerHandle> {
  const bin = postgresBin();
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'preflight-pg-'));
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data');
  const adminPassword = `pg-${randomBytes(12).toString('hex')}`;
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? idOf('postgres') : undefined;
  if (asRoot && !owner) throw new Error('running as root but there is no `postgres` OS user; install the Debian package `postgresql`');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, adminPassword);
  if (owner) chownTree(dir, owner);
  chmodSync(dir, 0o700);
  const runOpts = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync'], { encoding: 'utf8', ...runOpts });
  rmSync(pwfile, { force: true });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_connections = 200',
    'shared_buffers = 32MB',
  ];
  const ssl = spawnSync('openssl', ['req', '-new', '-x509', '-days', '30', '-nodes', '-subj', '/CN=127.0.0.1', '-out', join(data, 'server.crt'), '-keyout', join(data, 'server.key')], { encoding: 'utf8' });
  if (ssl.status === 0) {
    chmodSync(join(data, 'server.key'), 0o600);
    if (owner) {
      chownSync(join(data, 'server.key'), owner.uid, owner.gid);
      chownSync(join(data, 'server.crt'), owner.uid, owner.gid);
    }
    conf.push('ssl = on');
  }
  appendFileSync(join(data, 'postgresql.conf'), `\n${conf.join('\n')}\n`);
  const logFile = join(dir, 'postgres.log');
  const child = spawn(join(bin, 'postgres'), ['-D', data], { stdio: ['ignore', 'ignore', 'pipe'], ...runOpts });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: adminPassword, database: 'postgres', connectionTimeoutMillis: 5_000 });
    await c.connect();
    return c;
  };
  try {
    await waitFor(`PostgreSQL on 127.0.0.1:${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${stderr.slice(-2000)}`);
      if (!(await portOpen(port))) return false;
      const c = await connect();
      await c.end();
      return true;
    }, { timeoutMs: 60_000, intervalMs: 200 });
  } catch (e) {
    child.kill('SIGKILL');
    writeFileSync(logFile, stderr);
    throw e;
  }
  options.log?.(`PostgreSQL listening on 127.0.0.1:${port} (${dir})`);
  return {
    host: '127.0.0.1',
    port,
    adminUser: 'postgres',
    adminPassword,
    exec: async (sql) => {
      const c = await connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    stop: async () => {
      await stopChild(child, 'SIGINT');
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function mariadbBin(name: string): string {
  for (const d of ['/usr/sbin', '/usr/bin', '/usr/local/bin']) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(`${name} not found: install the Debian package \`mariadb-server\` (apt-get install mariadb-server)`);
}

/** A throwaway MariaDB server on 127.0.0.1 with an `admin` user that has every privilege. */
export async function startMariadb(options: DbServerOptions = {}): Promise<DbServerHandle> {
  const installer = mariadbBin('mariadb-install-db');
  const server = mariadbBin('mariadbd');
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'preflight-maria-'));
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const socket = join(dir, 'mysqld.sock');
  const user = process.getuid?.() === 0 ? 'root' : (process.env['USER'] ?? 'nobody');
  const init = spawnSync(installer, ['--no-defaults', `--datadir=${data}`, `--user=${user}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr || init.stdout}`);
  const child = spawn(
    server,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--user=${user}`,
      '--skip-log-bin',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--innodb-flush-log-at-trx-commit=0',
      '--max-connections=200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const adminPassword = `my-${randomBytes(12).toString('hex')}`;
  try {
    await waitFor(`MariaDB on 127.0.0.1:${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`mariadbd exited: ${stderr.slice(-2000)}`);
      if (!(await portOpen(port)) || !existsSync(socket)) return false;
      const c = await mysql.createConnection({ socketPath: socket, user: 'root' });
      await c.end();
      return true;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    const root = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
    await root.query(`CREATE USER 'admin'@'%' IDENTIFIED BY '${adminPassword}'; GRANT ALL PRIVILEGES ON *.* TO 'admin'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;`);
    await root.end();
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`MariaDB did not start: ${(e as Error).message}\n${readTail(stderr)}`);
  }
  options.log?.(`MariaDB listening on 127.0.0.1:${port} (${dir})`);
  return {
    host: '127.0.0.1',
    port,
    adminUser: 'admin',
    adminPassword,
    exec: async (sql) => {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'admin', password: adminPassword, multipleStatements: true });
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readTail(s: string): string {
  return s.split('\n').slice(-20).join('\n');
}

