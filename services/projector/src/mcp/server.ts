// The platform as Model Context Protocol tools, on the official SDK, so an agent can do what a
// platform admin does from the CLI: list connectors, register one, run a preflight (as an MCP
// Task, or waiting with progress), read the receipt, incidents and alerts, and — as a security
// admin — decide an approval. Every tool goes through the HTTP API with the caller's bearer
// token, so an agent gets exactly the roles and tenant of that token, and bad input comes back as
// the API's field-by-field error. The transports (stdio in the CLI, Streamable HTTP at /mcp) only
// decide how the token and the messages travel.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool as SdkTool } from '@modelcontextprotocol/sdk/types.js';
import { ApiError, connectorPath, operationPath, waitForOperation, type ApiCaller, type Operation } from './api.js';
import { OperationTaskStore, outcomeLine, OWNER_META } from './tasks.js';

export const MCP_SERVER_INFO = { name: 'connector-preflight', version: '0.2.0' };

const INSTRUCTIONS =
  'Connector Preflight: a connector is READY only when handshake, schema contract, credential audit and data quality all pass. ' +
  'Run start_preflight as a task (tasks/get to poll, tasks/result for the receipt, tasks/cancel to stop it) or let it wait with progress; ' +
  'get_receipt gives the evidence. Secrets are referenced (secretRef), never passed.';

interface ToolContext {
  api: ApiCaller;
  tasks: OperationTaskStore;
  /** Sends `notifications/progress` when the caller asked for it with a progressToken. */
  progress: (progress: number, total: number | undefined, message: string) => Promise<void>;
  sleep: (ms: number) => Promise<void>;
  signal: AbortSignal;
}

interface ToolDef {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, object>; required?: string[]; additionalProperties: false };
  annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint: boolean };
  /** Tools that may run as an MCP Task; the rest answer at once. */
  taskSupport?: 'optional';
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<CallToolResult>;
}

const connectorArg = { type: 'string', description: 'Connector id as the API shows it, `<tenant>.<name>` (e.g. acme.customers)' };
const asJson = (v: unknown, isError = false): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(v, null, 2) }], structuredContent: v as Record<string, unknown>, isError });

/** Arguments are checked here, naming the argument, before anything reaches the API. */
const argError = (message: string): McpError => new McpError(ErrorCode.InvalidParams, message);
function str(args: Record<string, unknown>, name: string, required: true): string;
function str(args: Record<string, unknown>, name: string, required?: false): string | undefined;
function str(args: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = args[name];
  if (v === undefined || v === null) {
    if (required) throw argError(`argument "${name}" is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0) throw argError(`argument "${name}" must be a non-empty string (got ${JSON.stringify(v)})`);
  return v;
}
function timeoutSeconds(args: Record<string, unknown>): number | undefined {
  const v = args['timeoutSeconds'];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 1 || v > 3600) throw argError(`argument "timeoutSeconds" must be a number from 1 to 3600 (got ${JSON.stringify(v)})`);
  return v;
}

/** A read-only tool without arguments that answers one GET. */
const listTool = (name: string, title: string, description: string, path: string): ToolDef => ({
  name,
  title,
  description,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: async (_args, { api }) => asJson(await api.call('GET', path)),
});

const PREFLIGHT_STEPS = ['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL'];

export const TOOLS: ToolDef[] = [
  {
    name: 'list_connectors',
    title: 'List connectors',
    description: 'Connectors visible to this token, with their preflight state (REGISTERED, HANDSHAKING, VALIDATING, READY, FAILED, AWAITING_APPROVAL); deregistered ones only with state RETIRED.',
    inputSchema: { type: 'object', properties: { state: { type: 'string', description: 'Only connectors in this state' } }, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { api }) {
      const state = str(args, 'state');
      return asJson(await api.call('GET', `/api/connectors${state ? `?state=${encodeURIComponent(state)}` : ''}`));
    },
  },
  {
    name: 'get_connector',
    title: 'Get a connector',
    description: 'One connector: state, timeline of events, open incidents and alerts, and its last outcome.',
    inputSchema: { type: 'object', properties: { connector: connectorArg }, required: ['connector'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { api }) {
      return asJson(await api.call('GET', connectorPath(str(args, 'connector', true))));
    },
  },
  {
    name: 'register_connector',
    title: 'Register a connector',
    description:
      'Registers a connector (publishes connector.registered). Secrets are never passed here: config names them by secretRef in the tenant namespace (file:path under the tenant secrets root, or env:TENANT_<tenant>__NAME). Every invalid field is reported at once. With autoPreflight the preflight starts right away.',
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'letters, digits, . _ - (at most 63)' },
        sourceType: { type: 'string', enum: ['postgres', 'mysql', 'mariadb', 'rest', 'files'] },
        config: { type: 'object', description: "The connector's config, secrets as secretRef only" },
        contract: { type: 'string', description: 'The ODCS v3 data contract (YAML) the source must meet' },
        environment: { type: 'string', description: 'development, staging or production' },
        owner: { type: 'string', description: 'The team that answers for the connector' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        autoPreflight: { type: 'boolean', default: true },
        validateOnly: { type: 'boolean', default: false, description: 'Only check the registration; register nothing' },
      },
      required: ['name', 'sourceType', 'config', 'contract'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    async run(args, { api }) {
      const { validateOnly, ...body } = args;
      if (validateOnly === true) {
        const r = await api.call<{ valid: boolean; issues: unknown[] }>('POST', '/api/connectors/validate', body);
        return asJson(r, !r.valid);
      }
      return asJson(await api.call('POST', '/api/connectors', body));
    },
  },
  {
    name: 'start_preflight',
    title: 'Start a preflight',
    description:
      'Starts a preflight (handshake, schema and quality check, credential audit). As an MCP Task it returns at once: poll with tasks/get (input_required while a security admin must approve), read the outcome and receipt with tasks/result, stop it with tasks/cancel. Without a task it waits for READY or FAILED (unless wait is false), reporting progress. The same idempotencyKey returns the same operation (and task) instead of starting another; timeoutSeconds is the operation\'s deadline.',
    inputSchema: {
      type: 'object',
      properties: {
        connector: connectorArg,
        wait: { type: 'boolean', default: true, description: 'Without a task: wait for the outcome' },
        timeoutSeconds: { type: 'number', default: 120, minimum: 1, maximum: 3600 },
        idempotencyKey: { type: 'string', maxLength: 200 },
        reason: { type: 'string', description: 'Why, for the audit trail' },
      },
      required: ['connector'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    taskSupport: 'optional',
    async run(args, { api, tasks, progress, sleep, signal }) {
      const id = str(args, 'connector', true);
      const key = str(args, 'idempotencyKey');
      const timeoutS = timeoutSeconds(args) ?? 120;
      const first = await api.call<Operation>('POST', connectorPath(id, '/preflight'), { reason: str(args, 'reason') ?? 'requested by an agent (MCP)', timeoutSeconds: timeoutS }, key ? { 'idempotency-key': key } : {});
      if (args['wait'] === false) return asJson(first);
      const { op, done } = await waitForOperation(api, id, first, {
        timeoutMs: timeoutS * 1000,
        sleep,
        signal,
        onTick: (t) => void progress(Math.max(1, PREFLIGHT_STEPS.indexOf(t.status) + 1), PREFLIGHT_STEPS.length + 1, `${id}: ${t.status} after ${(t.elapsedMs / 1000).toFixed(1)} s`),
      });
      if (!done) {
        return { content: [{ type: 'text', text: `gave up waiting after ${timeoutS} s; operation ${op.id} is still ${op.status}. Poll it with get_operation.` }], structuredContent: op as unknown as Record<string, unknown>, isError: true };
      }
      await progress(PREFLIGHT_STEPS.length + 1, PREFLIGHT_STEPS.length + 1, `${id}: ${op.result?.status ?? op.status}`);
      const r = (await tasks.resultOf(op)) as CallToolResult;
      // The first line stays the outcome, the old shape agents already parse.
      return { ...r, content: [{ type: 'text', text: `${outcomeLine(op)} Read the evidence with get_receipt.\n\n${JSON.stringify(op, null, 2)}` }] };
    },
  },
  {
    name: 'get_operation',
    title: 'Poll a preflight operation',
    description: 'The status of an operation start_preflight returned (its id is also the task id).',
    inputSchema: { type: 'object', properties: { operationId: { type: 'string' } }, required: ['operationId'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { api }) {
      return asJson(await api.call('GET', operationPath(str(args, 'operationId', true))));
    },
  },
  {
    name: 'get_receipt',
    title: 'Get the readiness receipt',
    description: "The connector's last receipt, as YAML: status, validated_by, each check with timing, contract version, evidence on Kafka.",
    inputSchema: { type: 'object', properties: { connector: connectorArg }, required: ['connector'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { api }) {
      return { content: [{ type: 'text', text: await api.text(connectorPath(str(args, 'connector', true), '/receipt'), 'application/yaml') }] };
    },
  },
  {
    name: 'validate_contract',
    title: 'Validate a data contract',
    description: 'Checks an ODCS v3 data contract (YAML) without registering anything: every issue at once, naming the field, or what the preflight will use from it (datasets, quality rules, PII fields).',
    inputSchema: { type: 'object', properties: { contract: { type: 'string', description: 'The ODCS v3 contract as YAML' } }, required: ['contract'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { api }) {
      const r = await api.call<{ valid: boolean }>('POST', '/api/contracts/validate', { contract: str(args, 'contract', true) });
      return asJson(r, !r.valid);
    },
  },
  {
    name: 'decide_approval',
    title: 'Approve or reject a preflight',
    description: "For a security admin's token only: decides the approval a preflight waits for (AWAITING_APPROVAL; its task shows input_required). APPROVED lets it end READY, REJECTED ends it FAILED.",
    inputSchema: {
      type: 'object',
      properties: { connector: connectorArg, decision: { type: 'string', enum: ['APPROVED', 'REJECTED'] }, comment: { type: 'string', maxLength: 2000, description: 'Why, for the audit trail' } },
      required: ['connector', 'decision'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    async run(args, { api }) {
      const decision = str(args, 'decision', true);
      if (decision !== 'APPROVED' && decision !== 'REJECTED') throw argError(`argument "decision" must be APPROVED or REJECTED (got ${JSON.stringify(decision)})`);
      const comment = str(args, 'comment');
      return asJson(await api.call('POST', connectorPath(str(args, 'connector', true), '/approvals'), { decision, ...(comment ? { comment } : {}) }));
    },
  },
  listTool('list_alerts', 'List alerts', 'Alerts raised for connectors visible to this token (an unreachable source, a failing handshake), newest first.', '/api/alerts'),
  listTool('list_incidents', 'List open incidents', 'Incidents opened by schema mismatches and failed quality checkpoints (severity V2, V3 with PII), newest first.', '/api/incidents'),
  {
    name: 'update_connector',
    title: 'Update a connector',
    description:
      'Changes a connector\'s config and/or contract (publishes connector.updated), validated as a registration. A READY outcome no longer stands: with autoPreflight (default) the new spec is preflighted at once. A contract change answers with its changelog, each change breaking or not; a breaking change in production waits for a security admin\'s approval.',
    inputSchema: {
      type: 'object',
      properties: {
        connector: connectorArg,
        config: { type: 'object', description: 'The new config, secrets as secretRef only' },
        contract: { type: 'string', description: 'The new ODCS v3 contract (YAML)' },
        environment: { type: 'string', description: 'development, staging or production' },
        owner: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        reason: { type: 'string', maxLength: 2000, description: 'Why, for the audit trail' },
        autoPreflight: { type: 'boolean', default: true },
      },
      required: ['connector'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run(args, { api }) {
      const { connector: _c, ...body } = args;
      return asJson(await api.call('PATCH', connectorPath(str(args, 'connector', true)), body));
    },
  },
  {
    name: 'deregister_connector',
    title: 'Deregister (retire) a connector',
    description: 'Retires a connector for good (publishes connector.deregistered): hidden from default lists, history and receipts still readable by id, further preflights refused.',
    inputSchema: { type: 'object', properties: { connector: connectorArg, reason: { type: 'string', maxLength: 2000, description: 'Why, for the audit trail' } }, required: ['connector'], additionalProperties: false },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    async run(args, { api }) {
      const reason = str(args, 'reason');
      return asJson(await api.call('DELETE', `${connectorPath(str(args, 'connector', true))}${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`));
    },
  },
  {
    name: 'release_gate',
    title: 'Release gate of a dataset',
    description: 'May a workflow that consumes this dataset be promoted? pass when every connector serving it is READY on its current spec with schema adherence and data quality PASS; fail names the failing expectations, with the evidence (receipt links).',
    inputSchema: { type: 'object', properties: { dataset: { type: 'string', description: 'A contract dataset name, or <connectorId>:<dataset>' } }, required: ['dataset'], additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async run(args, { api }) {
      const r = await api.call<{ pass: boolean }>('GET', `/api/release-readiness/${encodeURIComponent(str(args, 'dataset', true))}`);
      // A failing gate is an answer, not a tool error; the verdict is in the result.
      return asJson(r);
    },
  },
];

const sdkTool = (t: ToolDef): SdkTool => ({
  name: t.name,
  title: t.title,
  description: t.description,
  inputSchema: t.inputSchema,
  annotations: t.annotations,
  ...(t.taskSupport ? { execution: { taskSupport: t.taskSupport } } : {}),
});

/** What the API said (status, code, every invalid field), as a tool error the agent can read and fix. */
function apiErrorResult(e: unknown): CallToolResult {
  const err = e instanceof ApiError ? e : new ApiError(0, { message: (e as Error).message });
  const issues = err.body.issues?.map((i) => `\n- ${i.field}: ${i.message}`).join('') ?? '';
  return { content: [{ type: 'text', text: `${err.status ? `HTTP ${err.status} ` : ''}${err.body.code ? `${err.body.code}: ` : ''}${err.message}${issues}` }], isError: true };
}

/**
 * One MCP server for one client connection, speaking for one token through `api`. The SDK does
 * the protocol (negotiation from 2024-11-05 to 2025-11-25, tasks/get, tasks/result, tasks/list,
 * tasks/cancel); the tools and the task store are ours.
 */
export function createMcpServer(api: ApiCaller, options: { sleep?: (ms: number) => Promise<void> } = {}): Server {
  const tasks = new OperationTaskStore(api);
  const server = new Server(MCP_SERVER_INFO, {
    capabilities: { tools: { listChanged: false }, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
    instructions: INSTRUCTIONS,
    taskStore: tasks,
  });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS.map(sdkTool) }));

  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const { name, arguments: args = {}, task } = req.params;
    const tool = TOOLS.find((t) => t.name === name);
    if (!tool) throw argError(`unknown tool ${JSON.stringify(name)}; tools/list names them: ${TOOLS.map((t) => t.name).join(', ')}`);
    const allowed = Object.keys(tool.inputSchema.properties);
    const unknown = Object.keys(args).filter((k) => !allowed.includes(k));
    if (unknown.length) throw argError(`${tool.name} does not take ${unknown.map((k) => `"${k}"`).join(', ')}; it takes ${allowed.join(', ') || 'no arguments'}`);

    if (task) {
      if (!tool.taskSupport) throw new McpError(ErrorCode.MethodNotFound, `${tool.name} does not run as a task; call it without "task"`);
      if (args['wait'] !== undefined) throw argError('"wait" does not apply to a task: poll it with tasks/get');
      try {
        const created = await tasks.start({
          connector: str(args, 'connector', true),
          ...(str(args, 'idempotencyKey') ? { idempotencyKey: str(args, 'idempotencyKey')! } : {}),
          ...(timeoutSeconds(args) !== undefined ? { timeoutSeconds: timeoutSeconds(args)! } : {}),
          reason: str(args, 'reason') ?? 'requested by an agent (MCP task)',
        });
        const { _meta, ...rest } = created;
        return { task: rest, _meta: { [OWNER_META]: _meta[OWNER_META] } };
      } catch (e) {
        if (e instanceof McpError) throw e;
        // A task that could not be created is an error of the request, with the API's words.
        const text = apiErrorResult(e).content[0];
        throw new McpError(ErrorCode.InvalidParams, text?.type === 'text' ? text.text : 'could not start the preflight');
      }
    }

    const token = req.params._meta?.progressToken;
    const progress: ToolContext['progress'] = async (p, total, message) => {
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: p, ...(total ? { total } : {}), message } }).catch(() => undefined);
    };
    try {
      return await tool.run(args, { api, tasks, progress, sleep, signal: extra.signal });
    } catch (e) {
      if (e instanceof McpError) throw e;
      return apiErrorResult(e);
    }
  });
  return server;
}
