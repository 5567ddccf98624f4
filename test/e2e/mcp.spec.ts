import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolResultSchema, CreateTaskResultSchema, isJSONRPCRequest, type CallToolResult, type GetTaskResult } from '@modelcontextprotocol/sdk/types.js';
import { readTopics } from '@preflight/bus';
import { eventually } from '@preflight/testkit';
import { startTestPlatform, JWT_SECRET, type TestPlatform } from '../support/platform.js';

const bin = fileURLToPath(new URL('../../packages/cli/bin/preflight.mjs', import.meta.url));
let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform();
}, 120_000);
afterAll(async () => p?.stop());

type Kind = 'stdio' | 'http';

/**
 * Passes a transport through, recording the protocol version the client settles on, and (to
 * play an older client) asking for `ask` instead of the SDK's latest in `initialize`.
 */
function negotiating(t: Transport, ask?: string): { transport: Transport; version: () => string | undefined } {
  let version: string | undefined;
  const wrapped: Transport = {
    start: () => t.start(),
    close: () => t.close(),
    send: (m, o) => t.send(ask && isJSONRPCRequest(m) && m.method === 'initialize' ? { ...m, params: { ...m.params, protocolVersion: ask } } : m, o),
    get sessionId() {
      return t.sessionId;
    },
    setProtocolVersion: (v) => {
      version = v;
      t.setProtocolVersion?.(v);
    },
  };
  t.onmessage = (m, extra) => wrapped.onmessage?.(m, extra);
  t.onclose = () => wrapped.onclose?.();
  t.onerror = (e) => wrapped.onerror?.(e);
  return { transport: wrapped, version: () => version ?? (ask ? undefined : 'unset') };
}

/** An agent: the SDK's own Client, on `preflight mcp` as a child process or on the API's /mcp. */
async function agent(kind: Kind, token: string, ask?: string): Promise<{ client: Client; version: () => string | undefined; close: () => Promise<void> }> {
  const raw: Transport =
    kind === 'stdio'
      ? new StdioClientTransport({ command: process.execPath, args: [bin, 'mcp', '--api', p.url], env: { ...(process.env as Record<string, string>), PREFLIGHT_JWT_SECRET: JWT_SECRET, PREFLIGHT_TOKEN: token }, cwd: tmpdir(), stderr: 'pipe' })
      : new StreamableHTTPClientTransport(new URL(`${p.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const n = negotiating(raw, ask);
  const client = new Client({ name: `test-agent-${kind}`, version: '1' });
  await client.connect(n.transport);
  return {
    client,
    version: n.version,
    close: async () => {
      if (raw instanceof StreamableHTTPClientTransport) await raw.terminateSession();
      await client.close();
    },
  };
}

const text = (r: { content?: unknown }): string => ((r.content as Array<{ type: string; text?: string }> | undefined) ?? []).map((c) => c.text ?? '').join('\n');

async function register(client: Client, name: string, environment: 'development' | 'production'): Promise<string> {
  const reg = (await client.callTool({ name: 'register_connector', arguments: { name, sourceType: 'files', config: { path: p.demoDir }, contract: p.contract('customers.odcs.yaml'), environment, owner: 'team-crm', autoPreflight: false } })) as CallToolResult;
  expect(reg.isError, text(reg)).toBe(false);
  const id = `acme.${name}`;
  await eventually(`${id} registered`, async () => !(await client.callTool({ name: 'get_connector', arguments: { connector: id } })).isError);
  return id;
}

const startTask = (client: Client, args: Record<string, unknown>) => client.request({ method: 'tools/call', params: { name: 'start_preflight', arguments: args, task: { ttl: 60_000 } } }, CreateTaskResultSchema);

async function until(client: Client, taskId: string, ok: (t: GetTaskResult) => boolean): Promise<GetTaskResult> {
  let last: GetTaskResult | undefined;
  return eventually(
    `task ${taskId} to move on (last ${last?.status}: ${last?.statusMessage})`,
    async () => {
      last = await client.experimental.tasks.getTask(taskId);
      return ok(last) ? last : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

/** The outcomes on connector.validated for one attempt, read from the topic itself. */
async function outcomesOf(attemptId: string): Promise<Array<{ status: string; reason: string | null }>> {
  const out: Array<{ status: string; reason: string | null }> = [];
  await readTopics(p.bus.kafka, [p.bus.topics.of('connector.validated')], async (_t, _p, _o, value) => {
    const e = await p.bus.codec.decode(value, 'connector.validated');
    if (e.eventType === 'connector.validated' && e.correlationId === attemptId) out.push({ status: e.status, reason: e.reason });
  });
  return out;
}

describe.each<Kind>(['stdio', 'http'])('MCP over %s, driven by the SDK Client', (kind) => {
  it('negotiates 2025-11-25, and an older client still gets its version; lists tools', async () => {
    const latest = await agent(kind, await p.token('platform_admin', 'acme', `agent-${kind}`));
    expect(latest.version()).toBe('2025-11-25');
    expect(latest.client.getServerVersion()).toMatchObject({ name: 'connector-preflight' });
    const { tools } = await latest.client.listTools();
    expect(tools.map((t) => t.name)).toContain('start_preflight');
    await latest.close();

    const older = await agent(kind, await p.token('platform_admin', 'acme', `agent-${kind}`), '2025-03-26');
    expect(older.version()).toBe('2025-03-26');
    expect((await older.client.listTools()).tools.length).toBe(tools.length);
    await older.close();
  });

  it('runs start_preflight as a task: polled to completion, then the receipt; the same idempotencyKey is the same task and one preflight; without a task it waits with progress', async () => {
    const { client, close } = await agent(kind, await p.token('tenant_data_engineer', 'acme', `agent-${kind}`));
    const id = await register(client, `${kind}-crm`, 'development');
    const key = `${kind}-run-1`;
    const created = await startTask(client, { connector: id, idempotencyKey: key });
    expect(created.task).toMatchObject({ status: expect.stringMatching(/^(working|completed)$/), ttl: 86_400_000, pollInterval: 1000 });
    expect(created._meta?.['dev.preflight/owner']).toEqual({ principal: `agent-${kind}`, team: 'team-crm' });
    const again = await startTask(client, { connector: id, idempotencyKey: key });
    expect(again.task.taskId).toBe(created.task.taskId);

    const done = await until(client, created.task.taskId, (t) => t.status === 'completed');
    expect(done.statusMessage).toBe('READY acme.' + `${kind}-crm, validated by policy:auto-approve.`);
    expect(done._meta?.['dev.preflight/owner']).toEqual({ principal: `agent-${kind}`, team: 'team-crm' });
    const result = await client.experimental.tasks.getTaskResult(created.task.taskId, CallToolResultSchema);
    expect(result.isError).toBe(false);
    expect(text(result)).toMatch(/^READY acme\.\S+-crm, validated by policy:auto-approve\./);
    expect(text(result)).toMatch(/^status: READY$/m);
    const { tasks } = await client.experimental.tasks.listTasks();
    expect(tasks.map((t) => t.taskId)).toContain(created.task.taskId);

    // One preflight: one request on the bus, whatever the number of calls.
    const c = (await client.callTool({ name: 'get_connector', arguments: { connector: id } })) as CallToolResult;
    const history = (c.structuredContent as { history: Array<{ eventType: string }> }).history;
    expect(history.filter((h) => h.eventType === 'connector.handshake.requested')).toHaveLength(1);

    // A client that does not use tasks keeps waiting with progress.
    const progress: Array<{ progress: number; message?: string }> = [];
    const waited = (await client.callTool({ name: 'start_preflight', arguments: { connector: id } }, undefined, { onprogress: (n) => void progress.push(n), timeout: 90_000 })) as CallToolResult;
    expect(waited.isError).toBe(false);
    expect(text(waited)).toMatch(/^READY acme\.\S+-crm, validated by policy:auto-approve\. Read the evidence with get_receipt\./);
    expect(progress.at(-1)).toMatchObject({ progress: 5, total: 5, message: `${id}: READY` });
    await close();
  });

  it('tasks/cancel ends the attempt CANCELLED with exactly one outcome; a task past its timeout fails with the timeout message', async () => {
    const { client, close } = await agent(kind, await p.token('tenant_data_engineer', 'acme', `agent-${kind}`));
    const id = await register(client, `${kind}-prod`, 'production');

    // PII in production waits for a security admin: the task asks for input meanwhile.
    const created = await startTask(client, { connector: id, idempotencyKey: `${kind}-cancel` });
    const waiting = await until(client, created.task.taskId, (t) => t.status === 'input_required');
    expect(waiting.statusMessage).toMatch(/awaiting approval by a security_admin/);
    const cancelled = await client.experimental.tasks.cancelTask(created.task.taskId);
    expect(cancelled.status).toBe('cancelled');
    const op = await eventually('operation CANCELLED', async () => {
      const r = (await client.callTool({ name: 'get_operation', arguments: { operationId: created.task.taskId } })) as CallToolResult;
      const o = r.structuredContent as { status: string; attemptId: string; result: { reason: string } | null };
      return o.status === 'CANCELLED' ? o : undefined;
    });
    expect(op.result?.reason).toBe('CANCELLED');
    await expect(client.experimental.tasks.cancelTask(created.task.taskId)).rejects.toThrow(/terminal status: cancelled/);
    // Give a wrongly repeated decision time to show up, then count on the topic itself.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await outcomesOf(op.attemptId)).toEqual([{ status: 'FAILED', reason: 'CANCELLED' }]);

    const late = await startTask(client, { connector: id, timeoutSeconds: 2 });
    const failed = await until(client, late.task.taskId, (t) => t.status === 'failed');
    expect(failed.statusMessage).toMatch(/^TIMEOUT: the preflight did not finish before \d{4}-/);
    const failedResult = await client.experimental.tasks.getTaskResult(late.task.taskId, CallToolResultSchema);
    expect(failedResult).toMatchObject({ isError: true });
    expect(text(failedResult)).toMatch(/did not finish before/);
    // The catalogue's task metrics count them for the owning team.
    const prom = await (await fetch(`${p.url}/metrics`)).text();
    expect(prom).toMatch(/^tasks_cancelled_total\{team="team-crm"\} [1-9]/m);
    expect(prom).toMatch(/^tasks_timed_out_total\{team="team-crm"\} [1-9]/m);
    expect(prom).toMatch(/^tasks_started_total\{team="team-crm"\} [1-9]/m);
    await close();
  });

  it("keeps tenants apart: another tenant's token cannot see, list or cancel a task", async () => {
    const owner = await agent(kind, await p.token('tenant_data_engineer', 'acme', `agent-${kind}`));
    const id = await register(owner.client, `${kind}-iso`, 'production');
    const created = await startTask(owner.client, { connector: id });
    const other = await agent(kind, await p.token('tenant_data_engineer', 'globex', `other-${kind}`));
    await expect(other.client.experimental.tasks.getTask(created.task.taskId)).rejects.toThrow(/not found/i);
    await expect(other.client.experimental.tasks.cancelTask(created.task.taskId)).rejects.toThrow(/not found/i);
    expect((await other.client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).not.toContain(created.task.taskId);
    const foreign = (await other.client.callTool({ name: 'get_connector', arguments: { connector: id } })) as CallToolResult;
    expect(text(foreign)).toMatch(/^HTTP 404 NOT_FOUND/);
    // Still running for its owner, who may cancel it.
    expect((await owner.client.experimental.tasks.getTask(created.task.taskId)).status).not.toBe('cancelled');
    expect((await owner.client.experimental.tasks.cancelTask(created.task.taskId)).status).toBe('cancelled');
    await other.close();
    await owner.close();
  });
});

describe('MCP over HTTP: authorization and sessions', () => {
  it('answers an unauthenticated call 401 with the protected-resource metadata, which names the authorization server', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const res = await fetch(`${p.url}/mcp`, { method: 'POST', headers, body: JSON.stringify(init) });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/);
    const meta = (await (await fetch(/resource_metadata="([^"]+)"/.exec(challenge)![1]!)).json()) as { resource: string; authorization_servers: string[] };
    expect(meta.resource).toBe(`${p.url}/mcp`);
    expect(meta.authorization_servers.length).toBeGreaterThan(0);
    expect(await (await fetch(`${p.url}/.well-known/oauth-protected-resource`)).json()).toEqual(meta);

    const bad = await fetch(`${p.url}/mcp`, { method: 'POST', headers: { ...headers, authorization: 'Bearer not-a-jwt' }, body: JSON.stringify(init) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // A page on another origin cannot drive it through a browser (DNS rebinding), token or not.
    const token = await p.token('tenant_data_engineer', 'acme', 'browser');
    const foreign = await fetch(`${p.url}/mcp`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}`, origin: 'http://evil.example' }, body: JSON.stringify(init) });
    expect(foreign.status).toBe(403);
  });

  it('binds a session to its principal: no session id -> 400, another principal or a closed session -> 404', async () => {
    const a = await agent('http', await p.token('tenant_data_engineer', 'acme', 'sess-a'));
    const sessionId = (a.client.transport as StreamableHTTPClientTransport).sessionId!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    const post = async (token: string, session?: string) =>
      fetch(`${p.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25', ...(session ? { 'mcp-session-id': session } : {}) }, body: JSON.stringify(list) });
    expect((await post(await p.token('tenant_data_engineer', 'acme', 'sess-a'))).status).toBe(400);
    expect((await post(await p.token('tenant_data_engineer', 'globex', 'sess-b'), sessionId)).status).toBe(404);
    expect((await post(await p.token('tenant_data_engineer', 'acme', 'sess-a'), sessionId)).status).toBe(200);
    await a.close();
    expect((await post(await p.token('tenant_data_engineer', 'acme', 'sess-a'), sessionId)).status).toBe(404);
  });

  it('validate_contract checks a contract without registering; decide_approval is for a security admin only and moves a waiting task on; list_alerts reads alerts', async () => {
    const eng = await agent('http', await p.token('tenant_data_engineer', 'acme', 'tools-eng'));
    const ok = (await eng.client.callTool({ name: 'validate_contract', arguments: { contract: p.contract('customers.odcs.yaml') } })) as CallToolResult;
    expect(ok).toMatchObject({ isError: false, structuredContent: { valid: true, contract: { datasets: expect.arrayContaining([expect.any(String)]) } } });
    expect((ok.structuredContent as { contract: { piiFields: unknown[] } }).contract.piiFields.length).toBeGreaterThan(0);
    const bad = (await eng.client.callTool({ name: 'validate_contract', arguments: { contract: 'apiVersion: v3.0.2\nkind: DataContract\n' } })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect((bad.structuredContent as { issues: Array<{ field: string }> }).issues.map((i) => i.field)).toEqual(expect.arrayContaining([expect.stringMatching(/^contract\./)]));
    expect((await eng.client.listTools()).tools.filter((t) => t.annotations?.readOnlyHint).map((t) => t.name)).toEqual(expect.arrayContaining(['validate_contract', 'list_alerts']));
    const alerts = (await eng.client.callTool({ name: 'list_alerts', arguments: {} })) as CallToolResult;
    expect(alerts).toMatchObject({ isError: false, structuredContent: { alerts: expect.any(Array) } });

    const id = await register(eng.client, 'tools-prod', 'production');
    const created = await startTask(eng.client, { connector: id });
    await until(eng.client, created.task.taskId, (t) => t.status === 'input_required');
    const denied = (await eng.client.callTool({ name: 'decide_approval', arguments: { connector: id, decision: 'APPROVED' } })) as CallToolResult;
    expect(text(denied)).toMatch(/^HTTP 403 FORBIDDEN/);
    const sec = await agent('http', await p.token('security_admin', 'acme', 'tools-sec'));
    const decided = (await sec.client.callTool({ name: 'decide_approval', arguments: { connector: id, decision: 'APPROVED', comment: 'reviewed' } })) as CallToolResult;
    expect(decided).toMatchObject({ isError: false, structuredContent: { decision: 'APPROVED' } });
    const done = await until(eng.client, created.task.taskId, (t) => t.status === 'completed');
    expect(done.statusMessage).toBe(`READY ${id}, validated by user:tools-sec (policy:pii-in-production).`);
    await sec.close();
    await eng.close();
  });
});
