import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { McpServer, PROTOCOL_VERSIONS, TOOLS, type Outgoing } from './mcp.js';

/** A server whose API is a closed port: these tests cover only what never reaches it. */
function server(): { s: McpServer; sent: Outgoing[] } {
  const sent: Outgoing[] = [];
  return { s: new McpServer(new Client('http://127.0.0.1:9', 'token'), (m) => sent.push(m)), sent };
}
const req = (id: number, method: string, params?: unknown): string => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });

describe('MCP protocol', () => {
  it('negotiates the protocol version and announces tools', async () => {
    const { s, sent } = server();
    await s.handleLine(req(1, 'initialize', { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } }));
    await s.handleLine(req(2, 'initialize', { protocolVersion: '1999-01-01' }));
    expect(sent[0]).toMatchObject({ id: 1, result: { protocolVersion: '2025-03-26', capabilities: { tools: {} }, serverInfo: { name: 'connector-preflight' } } });
    expect(sent[1]).toMatchObject({ id: 2, result: { protocolVersion: PROTOCOL_VERSIONS[0] } });
  });

  it('lists every tool with a JSON Schema for its input and honest read-only hints', async () => {
    const { s, sent } = server();
    await s.handleLine(req(1, 'tools/list'));
    const tools = (sent[0] as { result: { tools: Array<{ name: string; inputSchema: { type: string; required?: string[] }; annotations: { readOnlyHint: boolean } }> } }).result.tools;
    expect(tools.map((t) => t.name)).toEqual(['list_connectors', 'get_connector', 'register_connector', 'start_preflight', 'get_operation', 'get_receipt', 'list_incidents']);
    for (const t of tools) expect(t.inputSchema.type).toBe('object');
    expect(tools.filter((t) => !t.annotations.readOnlyHint).map((t) => t.name)).toEqual(['register_connector', 'start_preflight']);
    expect(tools.find((t) => t.name === 'start_preflight')!.inputSchema.required).toEqual(['connector']);
    expect(JSON.stringify(tools)).not.toMatch(/"run"/);
  });

  it('answers bad input with JSON-RPC errors that name the problem, and keeps serving', async () => {
    const { s, sent } = server();
    await s.handleLine('{not json');
    await s.handleLine(req(2, 'resources/list'));
    await s.handleLine(req(3, 'tools/call', { name: 'list_connectors' })); // before initialize
    await s.handleLine(req(4, 'initialize', {}));
    await s.handleLine(req(5, 'tools/call', { name: 'drop_database' }));
    await s.handleLine(req(6, 'tools/call', { name: 'get_connector', arguments: {} }));
    await s.handleLine(req(7, 'tools/call', { name: 'get_connector', arguments: { connector: 42 } }));
    await s.handleLine(req(8, 'tools/call', { name: 'get_connector', arguments: { connector: 'a.b', password: 'x' } }));
    await s.handleLine(req(9, 'tools/call', { name: 'start_preflight', arguments: { connector: 'a.b', timeoutSeconds: 0 } }));
    await s.handleLine(JSON.stringify({ jsonrpc: '1.0', id: 10, method: 'ping' }));
    await s.handleLine(req(11, 'ping'));
    const byId = new Map(sent.map((m) => ['id' in m ? m.id : undefined, m]));
    expect(byId.get(null)).toMatchObject({ error: { code: -32700 } });
    expect(byId.get(2)).toMatchObject({ error: { code: -32601, message: expect.stringContaining('resources/list') } });
    expect(byId.get(3)).toMatchObject({ error: { code: -32600, message: 'call initialize first' } });
    expect(byId.get(5)).toMatchObject({ error: { code: -32602, message: expect.stringContaining('unknown tool "drop_database"') } });
    expect(byId.get(6)).toMatchObject({ error: { code: -32602, message: 'argument "connector" is required' } });
    expect(byId.get(7)).toMatchObject({ error: { code: -32602, message: 'argument "connector" must be a non-empty string (got 42)' } });
    expect(byId.get(8)).toMatchObject({ error: { code: -32602, message: expect.stringContaining('does not take "password"') } });
    expect(byId.get(9)).toMatchObject({ error: { code: -32602, message: expect.stringContaining('"timeoutSeconds" must be a number from 1 to 3600') } });
    expect(byId.get(10)).toMatchObject({ error: { code: -32600 } });
    expect(byId.get(11)).toMatchObject({ result: {} });
  });

  it('sends nothing back for notifications', async () => {
    const { s, sent } = server();
    await s.handleLine(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    await s.handleLine(JSON.stringify({ jsonrpc: '2.0', method: 'no/such/notification' }));
    expect(sent).toEqual([]);
  });

  it('turns an unreachable API into a tool error the agent can read, not a protocol error', async () => {
    const { s, sent } = server();
    await s.handleLine(req(1, 'initialize', {}));
    await s.handleLine(req(2, 'tools/call', { name: 'list_incidents', arguments: {} }));
    expect(sent[1]).toMatchObject({ id: 2, result: { isError: true, content: [{ type: 'text', text: expect.stringContaining('cannot reach the API') }] } });
    expect(TOOLS).toHaveLength(7);
  });
});
