// `preflight mcp` — the platform as Model Context Protocol tools, so an agent can do what a
// platform admin does from the CLI: list connectors, register one, start a preflight and wait
// for its outcome (with progress notifications), read the receipt and the open incidents.
// Every tool goes through the HTTP API with the caller's bearer token, so an agent gets exactly
// the roles and tenant of that token, and bad input comes back as the API's field-by-field error.
import { createInterface } from 'node:readline';
import { ApiError, waitForOperation, type Client, type Operation } from './client.js';

/** Versions of the protocol this server speaks, newest first. */
export const PROTOCOL_VERSIONS = ['2025-06-18', '2025-03-26', '2024-11-05'] as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Request {
  jsonrpc: '2.0';
  id?: string | number | null;
  method: string;
  params?: Record<string, unknown>;
}
export type Outgoing = { jsonrpc: '2.0'; id: string | number | null; result?: unknown; error?: { code: number; message: string; data?: unknown } } | { jsonrpc: '2.0'; method: string; params: unknown };

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

interface ToolContext {
  client: Client;
  /** Sends `notifications/progress` when the caller asked for it with a progressToken. */
  progress: (progress: number, total: number | undefined, message: string) => void;
  sleep: (ms: number) => Promise<void>;
}

interface Tool {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[]; additionalProperties?: boolean };
  annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint: boolean };
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<{ text: string; structured?: Record<string, unknown>; isError?: boolean }>;
}

const connectorArg = { type: 'string', description: 'Connector id as the API shows it, `<tenant>.<name>` (e.g. acme.customers)' };
const path = (id: string, suffix = ''): string => `/api/connectors/${encodeURIComponent(id)}${suffix}`;
const asJson = (v: unknown): { text: string; structured: Record<string, unknown> } => ({ text: JSON.stringify(v, null, 2), structured: v as Record<string, unknown> });

/** Arguments are checked here, naming the argument, before anything reaches the API. */
class ArgError extends Error {}
function str(args: Record<string, unknown>, name: string, required: true): string;
function str(args: Record<string, unknown>, name: string, required?: false): string | undefined;
function str(args: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = args[name];
  if (v === undefined || v === null) {
    if (required) throw new ArgError(`argument "${name}" is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0) throw new ArgError(`argument "${name}" must be a non-empty string (got ${JSON.stringify(v)})`);
  return v;
}

export const TOOLS: Tool[] = [
  {
    name: 'list_connectors',
    title: 'List connectors',
    description: 'Connectors visible to this token, with their preflight state (REGISTERED, HANDSHAKING, VALIDATING, READY, FAILED, AWAITING_APPROVAL).',
    inputSchema: { type: 'object', properties: { state: { type: 'string', description: 'Only connectors in this state' } }, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { client }) {
      const state = str(args, 'state');
      return asJson(await client.call('GET', `/api/connectors${state ? `?state=${encodeURIComponent(state)}` : ''}`));
    },
  },
  {
    name: 'get_connector',
    title: 'Get a connector',
    description: "One connector: state, timeline of events, open incidents and alerts, and its last outcome.",
    inputSchema: { type: 'object', properties: { connector: connectorArg }, required: ['connector'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { client }) {
      return asJson(await client.call('GET', path(str(args, 'connector', true))));
    },
  },
  {
    name: 'register_connector',
    title: 'Register a connector',
    description:
      'Registers a connector (publishes connector.registered). Secrets are never passed here: config names them by secretRef (env:NAME or file:/path). Every invalid field is reported at once. With autoPreflight the preflight starts right away.',
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'letters, digits, . _ - (at most 63)' },
        sourceType: { type: 'string', enum: ['postgres', 'mysql', 'mariadb', 'rest', 'files'] },
        config: { type: 'object', description: "The connector's config, secrets as secretRef only" },
        contract: { type: 'string', description: 'The ODCS v3 data contract (YAML) the source must meet' },
        environment: { type: 'string', description: 'development, staging or production' },
        owner: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        autoPreflight: { type: 'boolean', default: true },
        validateOnly: { type: 'boolean', default: false, description: 'Only check the registration; register nothing' },
      },
      required: ['name', 'sourceType', 'config', 'contract'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    async run(args, { client }) {
      const { validateOnly, ...body } = args;
      if (validateOnly === true) {
        const r = await client.call<{ valid: boolean; issues: unknown[] }>('POST', '/api/connectors/validate', body);
        return { ...asJson(r), isError: !r.valid };
      }
      return asJson(await client.call('POST', '/api/connectors', body));
    },
  },
  {
    name: 'start_preflight',
    title: 'Start a preflight',
    description:
      'Starts a preflight (handshake, schema and quality check, credential audit) and, unless wait is false, waits for READY or FAILED, reporting progress. The same idempotencyKey returns the same operation instead of starting another.',
    inputSchema: {
      type: 'object',
      properties: {
        connector: connectorArg,
        wait: { type: 'boolean', default: true },
        timeoutSeconds: { type: 'number', default: 120, minimum: 1, maximum: 3600 },
        idempotencyKey: { type: 'string', maxLength: 200 },
        reason: { type: 'string', description: 'Why, for the audit trail' },
      },
      required: ['connector'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, { client, progress, sleep }) {
      const id = str(args, 'connector', true);
      const key = str(args, 'idempotencyKey');
      const timeoutS = args['timeoutSeconds'] === undefined ? 120 : Number(args['timeoutSeconds']);
      if (!Number.isFinite(timeoutS) || timeoutS < 1 || timeoutS > 3600) throw new ArgError(`argument "timeoutSeconds" must be a number from 1 to 3600 (got ${JSON.stringify(args['timeoutSeconds'])})`);
      const first = await client.call<Operation>('POST', path(id, '/preflight'), { reason: str(args, 'reason') ?? 'requested by an agent (MCP)' }, key ? { 'idempotency-key': key } : {});
      if (args['wait'] === false) return asJson(first);
      const steps = ['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL'];
      const { op, done } = await waitForOperation(client, id, first, {
        timeoutMs: timeoutS * 1000,
        sleep,
        onTick: (t) => progress(Math.max(1, steps.indexOf(t.status) + 1), steps.length + 1, `${id}: ${t.status} after ${(t.elapsedMs / 1000).toFixed(1)} s`),
      });
      if (!done) {
        return { text: `gave up waiting after ${timeoutS} s; operation ${op.id} is still ${op.status}. Poll it with get_operation.`, structured: op as unknown as Record<string, unknown>, isError: true };
      }
      progress(steps.length + 1, steps.length + 1, `${id}: ${op.result?.status ?? 'FAILED'}`);
      const outcome = op.error ? `FAILED ${id}: ${op.error.code}: ${op.error.message}` : `${op.result!.status} ${id}${op.result!.reason ? ` (${op.result!.reason})` : ''}, validated by ${op.result!.validatedBy}. Read the evidence with get_receipt.`;
      // A FAILED preflight is a finding, not a tool failure: the tool did its job.
      return { text: `${outcome}\n\n${JSON.stringify(op, null, 2)}`, structured: op as unknown as Record<string, unknown> };
    },
  },
  {
    name: 'get_operation',
    title: 'Poll a preflight operation',
    description: 'The status of an operation start_preflight returned.',
    inputSchema: { type: 'object', properties: { operationId: { type: 'string' } }, required: ['operationId'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { client }) {
      return asJson(await client.call('GET', `/api/operations/${encodeURIComponent(str(args, 'operationId', true))}`));
    },
  },
  {
    name: 'get_receipt',
    title: 'Get the readiness receipt',
    description: "The connector's last receipt, as YAML: status, validated_by, each check with timing, contract version, evidence on Kafka.",
    inputSchema: { type: 'object', properties: { connector: connectorArg }, required: ['connector'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { client }) {
      return { text: await client.text(path(str(args, 'connector', true), '/receipt'), 'application/yaml') };
    },
  },
  {
    name: 'list_incidents',
    title: 'List open incidents',
    description: 'Incidents opened by schema mismatches and failed quality checkpoints (severity V2, V3 with PII), newest first.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(_args, { client }) {
      return asJson(await client.call('GET', '/api/incidents'));
    },
  },
];

/**
 * The protocol, without the transport: one incoming message in, the replies and notifications
 * out through `send`. Pure enough to test without a process.
 */
export class McpServer {
  private initialized = false;

  constructor(
    private readonly client: Client,
    private readonly send: (m: Outgoing) => void,
    private readonly info = { name: 'connector-preflight', version: '0.1.0' },
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Handles one line of input; never throws. */
  async handleLine(line: string): Promise<void> {
    if (!line.trim()) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.send({ jsonrpc: '2.0', id: null, error: { code: PARSE_ERROR, message: `not JSON: ${(e as Error).message}` } });
      return;
    }
    if (Array.isArray(msg)) {
      await Promise.all(msg.map((m) => this.handle(m)));
      return;
    }
    await this.handle(msg);
  }

  private async handle(raw: unknown): Promise<void> {
    const m = raw as Partial<Request> | null;
    if (!m || typeof m !== 'object' || m.jsonrpc !== '2.0' || typeof m.method !== 'string') {
      // Replies to our own requests (we send none) and malformed messages.
      if (m && typeof m === 'object' && 'id' in m && !('result' in m) && !('error' in m)) {
        this.send({ jsonrpc: '2.0', id: (m.id as string | number | null) ?? null, error: { code: INVALID_REQUEST, message: 'expected a JSON-RPC 2.0 request with "jsonrpc":"2.0" and a method' } });
      }
      return;
    }
    const isNotification = m.id === undefined;
    const reply = (result: unknown): void => void (!isNotification && this.send({ jsonrpc: '2.0', id: m.id ?? null, result }));
    const fail = (code: number, message: string): void => void (!isNotification && this.send({ jsonrpc: '2.0', id: m.id ?? null, error: { code, message } }));
    const params = m.params ?? {};
    switch (m.method) {
      case 'initialize': {
        const asked = typeof params['protocolVersion'] === 'string' ? params['protocolVersion'] : PROTOCOL_VERSIONS[0];
        const version = (PROTOCOL_VERSIONS as readonly string[]).includes(asked) ? asked : PROTOCOL_VERSIONS[0];
        this.initialized = true;
        return reply({
          protocolVersion: version,
          capabilities: { tools: { listChanged: false } },
          serverInfo: this.info,
          instructions:
            'Connector Preflight: a connector is READY only when handshake, schema contract, credential audit and data quality all pass. Use start_preflight to run one and get_receipt for the evidence. Secrets are referenced (secretRef), never passed.',
        });
      }
      case 'notifications/initialized':
      case 'notifications/cancelled':
        return;
      case 'ping':
        return reply({});
      case 'tools/list':
        return reply({ tools: TOOLS.map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: t.inputSchema, annotations: t.annotations })) });
      case 'tools/call': {
        if (!this.initialized) return fail(INVALID_REQUEST, 'call initialize first');
        const name = params['name'];
        const tool = TOOLS.find((t) => t.name === name);
        if (!tool) return fail(INVALID_PARAMS, `unknown tool ${JSON.stringify(name)}; tools/list names them: ${TOOLS.map((t) => t.name).join(', ')}`);
        const args = params['arguments'] ?? {};
        if (typeof args !== 'object' || args === null || Array.isArray(args)) return fail(INVALID_PARAMS, '"arguments" must be an object');
        const unknown = Object.keys(args).filter((k) => !(k in tool.inputSchema.properties));
        if (unknown.length) return fail(INVALID_PARAMS, `${tool.name} does not take ${unknown.map((k) => `"${k}"`).join(', ')}; it takes ${Object.keys(tool.inputSchema.properties).join(', ') || 'no arguments'}`);
        const token = (params['_meta'] as { progressToken?: string | number } | undefined)?.progressToken;
        const progress: ToolContext['progress'] = (p, total, message) => {
          if (token !== undefined) this.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: p, ...(total ? { total } : {}), message } });
        };
        try {
          const r = await tool.run(args as Record<string, unknown>, { client: this.client, progress, sleep: this.sleep });
          return reply({ content: [{ type: 'text', text: r.text }], ...(r.structured ? { structuredContent: r.structured as Json } : {}), isError: r.isError ?? false });
        } catch (e) {
          if (e instanceof ArgError) return fail(INVALID_PARAMS, e.message);
          // What the API said (status, code, every invalid field), as a tool error the agent can read and fix.
          const err = e instanceof ApiError ? e : new ApiError(0, { message: (e as Error).message });
          const issues = err.body.issues?.map((i) => `\n- ${i.field}: ${i.message}`).join('') ?? '';
          return reply({ content: [{ type: 'text', text: `${err.status ? `HTTP ${err.status} ` : ''}${err.body.code ? `${err.body.code}: ` : ''}${err.message}${issues}` }], isError: true });
        }
      }
      default:
        return fail(METHOD_NOT_FOUND, `method ${m.method} is not supported (initialize, ping, tools/list, tools/call)`);
    }
  }
}

/** The stdio transport: newline-delimited JSON-RPC on stdin/stdout; logs only on stderr. */
export async function serveStdio(client: Client): Promise<number> {
  const server = new McpServer(client, (m) => void process.stdout.write(`${JSON.stringify(m)}\n`));
  process.stderr.write(`preflight mcp: serving ${TOOLS.length} tools on stdio for ${client.baseUrl}\n`);
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const inFlight = new Set<Promise<void>>();
  for await (const line of rl) {
    const p = server.handleLine(line).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return 0;
}
