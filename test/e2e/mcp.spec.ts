import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { eventually } from '@preflight/testkit';
import { startTestPlatform, JWT_SECRET, type TestPlatform } from '../support/platform.js';

const bin = fileURLToPath(new URL('../../packages/cli/bin/preflight.mjs', import.meta.url));
let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform();
}, 120_000);
afterAll(async () => p?.stop());

type Message = { id?: number | null; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { code: number; message: string } };

/** `preflight mcp` as an agent's MCP client runs it: a child process spoken to over stdio. */
function mcp(token: string): { call(method: string, params?: unknown): Promise<Message>; seen: Message[]; stderr: () => string; close(): Promise<number | null> } {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [bin, 'mcp', '--api', p.url], { env: { ...process.env, PREFLIGHT_JWT_SECRET: JWT_SECRET, PREFLIGHT_TOKEN: token }, cwd: tmpdir() });
  const seen: Message[] = [];
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: child.stdout }).on('line', (l) => seen.push(JSON.parse(l) as Message));
  let next = 1;
  return {
    seen,
    stderr: () => err,
    async call(method, params) {
      const id = next++;
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) })}\n`);
      return eventually(`reply to ${method}`, () => seen.find((m) => m.id === id), { timeoutMs: 90_000 });
    },
    close: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.stdin.end();
      }),
  };
}

const text = (m: Message): string => ((m.result?.['content'] as Array<{ text: string }> | undefined) ?? [])[0]?.text ?? '';

describe('preflight mcp (Model Context Protocol over stdio)', () => {
  it('lets an agent register a connector, run its preflight with progress, and read the receipt', async () => {
    const client = mcp(await p.token('platform_admin', 'acme', 'agent-1'));
    const init = await client.call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test-agent', version: '1' } });
    expect(init.result).toMatchObject({ protocolVersion: '2025-06-18', serverInfo: { name: 'connector-preflight' } });
    client.seen.length = 0;

    // Every invalid field at once, from the API, as a tool error the agent can act on.
    const invalid = await client.call('tools/call', { name: 'register_connector', arguments: { name: 'bad name', sourceType: 'oracle', config: {}, contract: 'x' } });
    expect(invalid.result?.['isError']).toBe(true);
    expect(text(invalid)).toMatch(/HTTP 400 VALIDATION: .*\n- name: .*\n- sourceType: must be one of/);

    const reg = await client.call('tools/call', {
      name: 'register_connector',
      arguments: { name: 'agent-crm', sourceType: 'files', config: { path: p.demoDir }, contract: p.contract('customers.odcs.yaml'), environment: 'development', autoPreflight: false },
    });
    expect(reg.result).toMatchObject({ isError: false, structuredContent: { connectorId: 'acme.agent-crm' } });
    await eventually('registration folded', async () => {
      const r = await client.call('tools/call', { name: 'get_connector', arguments: { connector: 'acme.agent-crm' } });
      return r.result?.['isError'] === false;
    });

    const run = await client.call('tools/call', { name: 'start_preflight', arguments: { connector: 'acme.agent-crm', idempotencyKey: 'agent-run-1' }, _meta: { progressToken: 'p-1' } });
    expect(run.result).toMatchObject({ isError: false, structuredContent: { done: true, result: { status: 'READY', validatedBy: 'policy:auto-approve' } } });
    expect(text(run)).toMatch(/^READY acme\.agent-crm, validated by policy:auto-approve/);
    const progress = client.seen.filter((m) => m.method === 'notifications/progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((m) => m.params?.['progressToken'] === 'p-1')).toBe(true);
    expect(progress.at(-1)?.params).toMatchObject({ progress: 5, total: 5, message: 'acme.agent-crm: READY' });

    // The same idempotency key is the same operation, not a second preflight.
    const again = await client.call('tools/call', { name: 'start_preflight', arguments: { connector: 'acme.agent-crm', idempotencyKey: 'agent-run-1', wait: false } });
    expect((again.result?.['structuredContent'] as { id: string }).id).toBe((run.result?.['structuredContent'] as { id: string }).id);

    const receipt = await client.call('tools/call', { name: 'get_receipt', arguments: { connector: 'acme.agent-crm' } });
    expect(text(receipt)).toMatch(/^status: READY$/m);
    expect(text(receipt)).toMatch(/^validated_by: policy:auto-approve$/m);

    const list = await client.call('tools/call', { name: 'list_connectors', arguments: { state: 'READY' } });
    expect((list.result?.['structuredContent'] as { connectors: Array<{ connectorId: string }> }).connectors.map((c) => c.connectorId)).toContain('acme.agent-crm');
    expect(await client.close()).toBe(0);
    expect(client.stderr()).toMatch(/serving 7 tools/);
  });

  it("has exactly the token's rights: another tenant's agent sees nothing and a reader cannot start a preflight", async () => {
    const other = mcp(await p.token('tenant_data_engineer', 'globex', 'agent-2'));
    await other.call('initialize', {});
    const foreign = await other.call('tools/call', { name: 'get_connector', arguments: { connector: 'acme.agent-crm' } });
    expect(foreign.result?.['isError']).toBe(true);
    expect(text(foreign)).toMatch(/^HTTP 404 NOT_FOUND/);
    expect(await other.close()).toBe(0);

    const reader = mcp(await p.token('observability_engineer', 'acme', 'agent-3'));
    await reader.call('initialize', {});
    const denied = await reader.call('tools/call', { name: 'start_preflight', arguments: { connector: 'acme.agent-crm', wait: false } });
    expect(denied.result?.['isError']).toBe(true);
    expect(text(denied)).toMatch(/^HTTP 403 FORBIDDEN/);
    expect(await reader.close()).toBe(0);
  });
});
