import { parseArgs as parseArgv } from 'node:util';
import { ApiError, Client } from './client.js';
import { out, type Command, type Flags } from './command.js';
import { tokenFor } from './token.js';
import { cliSettings } from './config.js';


const USAGE = `preflight — connector preflight from the command line

  preflight register <spec.yaml>          register a connector (name, sourceType, config, contract|contractFile, environment)
  preflight handshake <connector>         start a preflight and wait for READY/FAILED (--no-wait to return the operation)
  preflight status [<connector>]          all connectors by state, or one connector with its timeline
  preflight receipt <connector>           the last receipt (YAML; --json, or --junit for JUnit XML in CI)
  preflight topics                        message rate and consumer lag per topic
  preflight incidents [--status open|resolved|all]   incidents (default open), how often seen, how they ended
  preflight update <connector> <update.yaml>  change config and/or contract (config, contract|contractFile, environment, owner, labels, reason, autoPreflight); shows the contract changelog
  preflight deregister <connector> [reason]   retire a connector: hidden from lists, history kept, further preflights refused
  preflight gate <dataset>                release gate of a dataset (or <connector>:<dataset>): exit 0 pass, 1 fail with the failing expectations
  preflight token --role <role> [--tenant t] [--sub s]   a local development token
  preflight contract diff <old.yaml> <new.yaml>  what changed between two contract versions, each change breaking or not
  preflight mcp                           serve the platform as MCP tools on stdio, for agents

flags: --json (machine output) --api <url> (or PREFLIGHT_API_URL, default http://127.0.0.1:8080) --timeout <s>
token: PREFLIGHT_TOKEN; on a loopback API without one, a local development token is used.
exit: 0 READY / success, 1 FAILED (contract diff: a breaking change; gate: fail), 2 usage or API error, 3 timed out`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  junit: { type: 'boolean' },
  'no-wait': { type: 'boolean', default: false },
  api: { type: 'string' },
  timeout: { type: 'string', default: '300' },
  role: { type: 'string' },
  tenant: { type: 'string' },
  sub: { type: 'string' },
  status: { type: 'string' },
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
    api: v.api ?? cliSettings().apiUrl,
    timeoutS,
    ...(v.junit ? { junit: true } : {}),
    ...(v.role !== undefined ? { role: v.role } : {}),
    ...(v.tenant !== undefined ? { tenant: v.tenant } : {}),
    ...(v.sub !== undefined ? { sub: v.sub } : {}),
    ...(v.status !== undefined ? { status: v.status } : {}),
  };
  const args = v.help ? ['help', ...positionals] : [...positionals];
  return { cmd: args.shift(), args, flags };
}

// Each command in its own module, loaded only when run: `--help` loads none of them.
const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  register: () => import('./commands/register.js'),
  handshake: () => import('./commands/handshake.js'),
  status: () => import('./commands/status.js'),
  receipt: () => import('./commands/receipt.js'),
  topics: () => import('./commands/topics.js'),
  token: () => import('./commands/token.js'),
  contract: () => import('./commands/contract.js'),
  incidents: () => import('./commands/incidents.js'),
  update: () => import('./commands/update.js'),
  deregister: () => import('./commands/deregister.js'),
  gate: () => import('./commands/gate.js'),
  // Only this command needs the MCP SDK.
  mcp: async () => ({ run: async ({ client }) => (await import('./mcp.js')).serveStdio(await client()) }),
};

async function run(argv: string[]): Promise<number> {
  const { cmd, args, flags } = parseArgs(argv);
  if (!cmd || cmd === 'help') {
    out(USAGE);
    return cmd ? 0 : 2;
  }
  const load = COMMANDS[cmd];
  if (!load) throw new ApiError(0, { message: `unknown command "${cmd}"; run preflight help` });
  const client = async (): Promise<Client> => new Client(flags.api.replace(/\/$/, ''), await tokenFor(flags));
  return (await load()).run({ args, flags, client });
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
