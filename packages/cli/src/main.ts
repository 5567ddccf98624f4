import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs as parseArgv } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { DataContract } from '@preflight/contracts';
import type { Role, signDevToken } from '@preflight/auth';
import { ApiError, Client, waitForOperation, type Operation } from './client.js';
import { receiptToJunit } from './junit.js';

interface Flags {
  json: boolean;
  junit?: boolean;
  wait: boolean;
  api: string;
  timeoutS: number;
  role?: string;
  tenant?: string;
  sub?: string;
}

const USAGE = `preflight — connector preflight from the command line

  preflight register <spec.yaml>          register a connector (name, sourceType, config, contract|contractFile, environment)
  preflight handshake <connector>         start a preflight and wait for READY/FAILED (--no-wait to return the operation)
  preflight status [<connector>]          all connectors by state, or one connector with its timeline
  preflight receipt <connector>           the last receipt (YAML; --json, or --junit for JUnit XML in CI)
  preflight topics                        message rate and consumer lag per topic
  preflight token --role <role> [--tenant t] [--sub s]   a local development token
  preflight contract diff <old.yaml> <new.yaml>  what changed between two contract versions, each change breaking or not
  preflight mcp                           serve the platform as MCP tools on stdio, for agents

flags: --json (machine output) --api <url> (or PREFLIGHT_API_URL, default http://127.0.0.1:8080) --timeout <s>
token: PREFLIGHT_TOKEN; on a loopback API without one, a local development token is used.
exit: 0 READY / success, 1 FAILED (contract diff: a breaking change), 2 usage or API error, 3 timed out`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  junit: { type: 'boolean' },
  'no-wait': { type: 'boolean', default: false },
  api: { type: 'string' },
  timeout: { type: 'string', default: '300' },
  role: { type: 'string' },
  tenant: { type: 'string' },
  sub: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseArgs(argv: string[]): { cmd: string | undefined; args: string[]; flags: Flags } {
  let parsed: ReturnType<typeof parseArgv<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgv({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (e) {
    // An unknown flag or a flag without its value: a usage error (exit 2), not a crash.
    throw new ApiError(0, { message: `${(e as Error).message}; run preflight help` });
  }
  const { values: v, positionals } = parsed;
  const timeoutS = Number(v.timeout);
  if (!(timeoutS > 0)) throw new ApiError(0, { message: `--timeout must be a number of seconds above 0 (got ${JSON.stringify(v.timeout)})` });
  const flags: Flags = {
    json: v.json,
    wait: !v['no-wait'],
    api: v.api ?? process.env['PREFLIGHT_API_URL'] ?? 'http://127.0.0.1:8080',
    timeoutS,
    ...(v.junit ? { junit: true } : {}),
    ...(v.role !== undefined ? { role: v.role } : {}),
    ...(v.tenant !== undefined ? { tenant: v.tenant } : {}),
    ...(v.sub !== undefined ? { sub: v.sub } : {}),
  };
  const args = v.help ? ['help', ...positionals] : [...positionals];
  return { cmd: args.shift(), args, flags };
}

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const tty = process.stdout.isTTY;
const color = (code: number, s: string): string => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const statusColor = (s: string): string => (s === 'READY' ? color(32, s) : s === 'FAILED' ? color(31, s) : color(33, s));

/** Token signing pulls in jose and the platform core: loaded only by the commands that sign, so `--help` stays instant. */
const devTokens = (): Promise<{ ROLES: readonly Role[]; signDevToken: typeof signDevToken }> => import('@preflight/auth');

async function tokenFor(flags: Flags): Promise<string> {
  if (process.env['PREFLIGHT_TOKEN']) return process.env['PREFLIGHT_TOKEN'];
  const host = new URL(flags.api).hostname;
  if (host === '127.0.0.1' || host === 'localhost' || host === '::1') return (await devTokens()).signDevToken({ sub: 'cli', roles: ['platform_admin'], tenant: 'demo' }, process.env['PREFLIGHT_JWT_SECRET']);
  throw new ApiError(0, { message: 'set PREFLIGHT_TOKEN to a bearer token for this API' });
}

async function handshake(client: Client, id: string, flags: Flags): Promise<number> {
  const first = await client.call<Operation>('POST', `/api/connectors/${encodeURIComponent(id)}/preflight`, { reason: 'requested from the CLI' });
  if (!flags.wait) {
    out(flags.json ? JSON.stringify(first) : `operation ${first.id} ${first.status}; poll ${flags.api}${first.statusUrl}`);
    return 0;
  }
  const spin = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const { op, done } = await waitForOperation(client, id, first, {
    timeoutMs: flags.timeoutS * 1000,
    onTick: (t) => {
      const line = `${spin[i++ % spin.length]} preflight ${id}: ${t.status} (${t.lastEvent?.replace('connector.', '') ?? '…'}) ${(t.elapsedMs / 1000).toFixed(1)}s`;
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (!flags.json) process.stderr.write(`${line}\n`);
    },
  });
  if (!done) {
    if (tty) process.stderr.write('\n');
    process.stderr.write(`gave up waiting after ${flags.timeoutS} s; operation ${op.id} is still ${op.status}\n`);
    return 3;
  }
  if (tty) process.stderr.write('\r\x1b[2K');
  if (flags.json) out(JSON.stringify(op));
  if (op.error) {
    if (!flags.json) out(`${color(31, 'FAILED')} ${id}: ${op.error.code}: ${op.error.message}`);
    return 1;
  }
  const r = op.result!;
  if (!flags.json) out(`${statusColor(r.status)} ${id}${r.reason ? ` (${r.reason})` : ''} — validated by ${r.validatedBy}. Receipt: preflight receipt ${id}`);
  return r.status === 'READY' ? 0 : 1;
}

// Loaded only for `contract diff`, so other commands (and --help) start without the contract parser.
async function readContract(file: string): Promise<DataContract> {
  const { parseContract } = await import('@preflight/contracts');
  try {
    return parseContract(readFileSync(file, 'utf8'));
  } catch (e) {
    const issues = (e as { issues?: Array<{ field: string; message: string }> }).issues?.map((i) => `\n  - ${i.field}: ${i.message}`).join('') ?? '';
    throw new ApiError(0, { message: `${file}: ${(e as Error).message.split(':')[0] ?? 'invalid'}${issues}` });
  }
}

/** For a contract change in CI: exit 1 when any change is breaking, so a pipeline can ask for approval. */
async function contractDiff(args: string[], flags: Flags): Promise<number> {
  const [sub, before, after] = args;
  if (sub !== 'diff' || !before || !after) throw new ApiError(0, { message: 'usage: preflight contract diff <old.yaml> <new.yaml>' });
  const { contractChangelog } = await import('@preflight/contracts');
  const log = contractChangelog(await readContract(before), await readContract(after));
  if (flags.json) out(JSON.stringify(log));
  else {
    out(`contract ${log.from} → ${log.to}: ${log.changes.length} change(s), ${log.breaking ? color(31, 'BREAKING') : color(32, 'non-breaking')}`);
    for (const c of log.changes) out(`  ${(c.breaking ? color(31, 'breaking') : 'ok').padEnd(tty ? 17 : 8)} ${c.kind.padEnd(22)} ${c.path.padEnd(32)} ${c.detail}`);
  }
  return log.breaking ? 1 : 0;
}

async function run(argv: string[]): Promise<number> {
  const { cmd, args, flags } = parseArgs(argv);
  if (!cmd || cmd === 'help') {
    out(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === 'token') {
    const { ROLES, signDevToken } = await devTokens();
    if (!flags.role || !(ROLES as readonly string[]).includes(flags.role)) throw new ApiError(0, { message: `--role must be one of ${ROLES.join(', ')}` });
    out(await signDevToken({ roles: [flags.role as Role], tenant: flags.tenant ?? 'demo', ...(flags.sub ? { sub: flags.sub } : {}) }, process.env['PREFLIGHT_JWT_SECRET']));
    return 0;
  }
  if (cmd === 'contract') return contractDiff(args, flags);
  const client = new Client(flags.api.replace(/\/$/, ''), await tokenFor(flags));
  switch (cmd) {
    case 'register': {
      const file = args[0];
      if (!file) throw new ApiError(0, { message: 'usage: preflight register <spec.yaml>' });
      const spec = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
      if (typeof spec['contractFile'] === 'string') {
        spec['contract'] = readFileSync(resolve(dirname(file), spec['contractFile']), 'utf8');
        delete spec['contractFile'];
      }
      const r = await client.call<{ connectorId: string; attemptId: string | null }>('POST', '/api/connectors', spec);
      out(flags.json ? JSON.stringify(r) : `registered ${r.connectorId}${r.attemptId ? ` (preflight ${r.attemptId} started)` : ''}`);
      return 0;
    }
    case 'handshake':
      if (!args[0]) throw new ApiError(0, { message: 'usage: preflight handshake <connector>' });
      return handshake(client, args[0], flags);
    case 'status': {
      if (args[0]) {
        const c = await client.call<{ connectorId: string; status: string; tenantId: string; sourceType: string; attempts: number; history: Array<{ at: string; eventType: string; status: string | null; summary: string }> }>('GET', `/api/connectors/${encodeURIComponent(args[0])}`);
        if (flags.json) out(JSON.stringify(c));
        else {
          out(`${c.connectorId}  ${statusColor(c.status)}  tenant ${c.tenantId}  ${c.sourceType}  ${c.attempts} attempt(s)`);
          for (const h of c.history.slice(-15)) out(`  ${h.at}  ${h.eventType.replace('connector.', '').padEnd(20)} ${(h.status ?? '').padEnd(10)} ${h.summary}`);
        }
        return c.status === 'FAILED' ? 1 : 0;
      }
      type Row = { connectorId: string; status: string; tenantId: string; sourceType: string; updatedAt: string };
      const list: { connectors: Row[] } = { connectors: [] };
      // The API pages on the server; the CLI walks every page so `status` still lists all.
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page: { connectors: Row[]; nextCursor: string | null } = await client.call('GET', `/api/connectors?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        list.connectors.push(...page.connectors);
        cursor = page.nextCursor;
      }
      if (flags.json) out(JSON.stringify(list));
      else {
        out(`${'CONNECTOR'.padEnd(40)} ${'STATE'.padEnd(18)} ${'TENANT'.padEnd(12)} ${'SOURCE'.padEnd(9)} UPDATED`);
        for (const c of list.connectors) out(`${c.connectorId.padEnd(40)} ${statusColor(c.status.padEnd(18))} ${c.tenantId.padEnd(12)} ${c.sourceType.padEnd(9)} ${c.updatedAt}`);
        out(`${list.connectors.length} connector(s)`);
      }
      return 0;
    }
    case 'receipt': {
      if (!args[0]) throw new ApiError(0, { message: 'usage: preflight receipt <connector>' });
      // One structured answer: the receipt as data (for --junit and the exit code) and as the
      // signed-off YAML text it is printed as.
      const r = await client.call<{ status: 'READY' | 'FAILED'; yaml: string; receipt: Parameters<typeof receiptToJunit>[0] }>('GET', `/api/connectors/${encodeURIComponent(args[0])}/receipt`);
      if (flags.json) out(JSON.stringify(r));
      else if (flags.junit) out(receiptToJunit(r.receipt).trimEnd());
      else out(r.yaml.trimEnd());
      return r.status === 'READY' ? 0 : 1;
    }
    case 'mcp':
      // Only this command needs the MCP SDK; the others start without loading it.
      return (await import('./mcp.js')).serveStdio(client);
    case 'topics': {
      const t = await client.call<{ topics: Array<{ topic: string; messages: number; ratePerSec: number; lag: Array<{ group: string; lag: number }>; deadLetters: number | null }> }>('GET', '/api/topics');
      if (flags.json) out(JSON.stringify(t));
      else {
        out(`${'TOPIC'.padEnd(40)} ${'MESSAGES'.padStart(9)} ${'MSGS/S'.padStart(8)} ${'DLQ'.padStart(5)}  LAG`);
        for (const r of t.topics) {
          const dlq = String(r.deadLetters ?? '-').padStart(5);
          out(`${r.topic.padEnd(40)} ${String(r.messages).padStart(9)} ${String(r.ratePerSec).padStart(8)} ${(r.deadLetters ?? 0) > 0 ? color(31, dlq) : dlq}  ${r.lag.map((l) => `${l.group}=${l.lag}`).join(' ') || '-'}`);
        }
        const dead = t.topics.filter((r) => (r.deadLetters ?? 0) > 0);
        if (dead.length) out(`dead letters waiting: ${dead.map((r) => `${r.topic}.dlq (${r.deadLetters})`).join(', ')}; each carries its reason in the dlq_reason header`);
      }
      return 0;
    }
    default:
      throw new ApiError(0, { message: `unknown command "${cmd}"; run preflight help` });
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e instanceof ApiError ? e : new ApiError(0, { message: (e as Error).message });
    const issues = err.body.issues?.map((i) => `\n  - ${i.field}: ${i.message}`).join('') ?? '';
    process.stderr.write(`preflight: ${err.status ? `HTTP ${err.status} ` : ''}${err.body.code ? `${err.body.code}: ` : ''}${err.message}${issues}\n`);
    process.exit(2);
  },
);
