import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { ApiError, type ApiCaller, type Operation } from './api.js';
import { createMcpServer } from './server.js';
import { taskOf } from './tasks.js';

/** An API that answers nothing: these tests cover only what never reaches it. */
const unreachable: ApiCaller = {
  baseUrl: 'http://127.0.0.1:9',
  call: () => Promise.reject(new ApiError(0, { code: 'CONNECTIVITY', message: 'cannot reach the API at http://127.0.0.1:9' })),
  text: () => Promise.reject(new ApiError(0, { code: 'CONNECTIVITY', message: 'cannot reach the API at http://127.0.0.1:9' })),
};

async function connect(): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await createMcpServer(unreachable).connect(a);
  const client = new Client({ name: 'unit', version: '1' });
  await client.connect(b);
  return client;
}

const op = (over: Partial<Operation> = {}): Operation => ({
  id: 'op-1',
  connectorId: 'acme.crm',
  tenantId: 'acme',
  attemptId: 'att-1',
  status: 'RUNNING',
  done: false,
  createdAt: '2026-12-02T05:00:00.000Z',
  updatedAt: '2026-12-02T05:00:01.000Z',
  deadline: '2026-12-02T05:02:00.000Z',
  statusUrl: '/api/operations/op-1',
  pollInterval: 1,
  ttl: 86_400,
  idempotencyKey: null,
  result: null,
  error: null,
  owner: { principal: 'agent-1', team: 'team-crm' },
  cancelRequestedAt: null,
  ...over,
});

describe('MCP server on the SDK', () => {
  it('negotiates 2025-11-25 and announces tools and tasks', async () => {
    const client = await connect();
    expect(LATEST_PROTOCOL_VERSION).toBe('2025-11-25');
    expect(client.getServerVersion()).toMatchObject({ name: 'connector-preflight' });
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['list_connectors', 'get_connector', 'register_connector', 'start_preflight', 'get_operation', 'get_receipt', 'validate_contract', 'decide_approval', 'list_alerts', 'list_incidents', 'update_connector', 'deregister_connector', 'release_gate']);
    expect(tools.filter((t) => !t.annotations?.readOnlyHint).map((t) => t.name)).toEqual(['register_connector', 'start_preflight', 'decide_approval', 'update_connector', 'deregister_connector']);
    expect(tools.find((t) => t.name === 'start_preflight')).toMatchObject({ execution: { taskSupport: 'optional' }, inputSchema: { required: ['connector'] } });
    expect(tools.filter((t) => t.execution?.taskSupport).map((t) => t.name)).toEqual(['start_preflight']);
  });

  it('refuses bad arguments with errors that name them, before anything reaches the API', async () => {
    const client = await connect();
    const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
    await expect(call('drop_database', {})).rejects.toThrow(/unknown tool "drop_database"/);
    await expect(call('get_connector', {})).rejects.toThrow(/argument "connector" is required/);
    await expect(call('get_connector', { connector: 42 })).rejects.toThrow(/argument "connector" must be a non-empty string \(got 42\)/);
    await expect(call('get_connector', { connector: 'a.b', password: 'x' })).rejects.toThrow(/does not take "password"/);
    await expect(call('decide_approval', { connector: 'a.b', decision: 'MAYBE' })).rejects.toThrow(/"decision" must be APPROVED or REJECTED \(got "MAYBE"\)/);
    await expect(call('start_preflight', { connector: 'a.b', timeoutSeconds: 0 })).rejects.toThrow(/"timeoutSeconds" must be a number from 1 to 3600/);
    await expect(client.request({ method: 'tools/call', params: { name: 'list_incidents', arguments: {}, task: { ttl: 1000 } } }, (await import('@modelcontextprotocol/sdk/types.js')).CreateTaskResultSchema)).rejects.toThrow(/does not run as a task/);
  });

  it('turns an unreachable API into a tool error the agent can read, not a protocol error', async () => {
    const client = await connect();
    const r = await client.callTool({ name: 'list_incidents', arguments: {} });
    expect(r).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringContaining('cannot reach the API') }] });
  });
});

describe('task status from an operation', () => {
  it('maps working, input_required, completed (READY or FAILED alike), failed and cancelled, with the owner in _meta', () => {
    expect(taskOf(op(), { status: 'VALIDATING', pendingApproval: null })).toMatchObject({ taskId: 'op-1', status: 'working', statusMessage: 'acme.crm: VALIDATING', ttl: 86_400_000, pollInterval: 1000, _meta: { 'dev.preflight/owner': { principal: 'agent-1', team: 'team-crm' } } });
    const awaiting = { status: 'AWAITING_APPROVAL', pendingApproval: { policy: 'pii-in-production', requiredRole: 'security_admin', reason: 'PII', attemptId: 'att-1' } };
    expect(taskOf(op(), awaiting)).toMatchObject({ status: 'input_required', statusMessage: expect.stringContaining('security_admin') });
    // Another attempt's approval is not this task's.
    expect(taskOf(op(), { ...awaiting, pendingApproval: { ...awaiting.pendingApproval, attemptId: 'att-2' } }).status).toBe('working');
    const result = { status: 'FAILED' as const, reason: 'SCHEMA_MISMATCH', validatedBy: 'policy:all-checks-must-pass' };
    expect(taskOf(op({ status: 'SUCCEEDED', done: true, result }), undefined)).toMatchObject({ status: 'completed', statusMessage: 'FAILED acme.crm (SCHEMA_MISMATCH), validated by policy:all-checks-must-pass.' });
    const timeout = { code: 'TIMEOUT', message: 'the preflight did not finish before 2026-12-02T05:02:00.000Z' };
    expect(taskOf(op({ status: 'FAILED', done: true, error: timeout }), undefined)).toMatchObject({ status: 'failed', statusMessage: `TIMEOUT: ${timeout.message}` });
    expect(taskOf(op({ cancelRequestedAt: '2026-12-02T05:00:02.000Z' }), awaiting).status).toBe('cancelled');
    // A result that raced the cancel does not move the task from one terminal status to another.
    expect(taskOf(op({ cancelRequestedAt: '2026-12-02T05:00:02.000Z', status: 'SUCCEEDED', done: true, result: { ...result, status: 'READY', reason: null } }), undefined).status).toBe('cancelled');
  });
});
