// `preflight mcp` — the platform's MCP server (services/projector/src/mcp) on stdio, for an agent
// that starts it as a child process. Tools call the HTTP API with this process's token; stdout
// carries only protocol messages, so the one log line goes to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, TOOLS } from '@preflight/projector/mcp';
import type { Client } from './client.js';

export async function serveStdio(client: Client): Promise<number> {
  const server = createMcpServer(client);
  const closed = new Promise<void>((resolve) => (server.onclose = resolve));
  process.stderr.write(`preflight mcp: serving ${TOOLS.length} tools on stdio for ${client.baseUrl}\n`);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  // The client ends the session by closing our stdin (MCP's stdio shutdown).
  process.stdin.once('end', () => void server.close());
  await closed;
  return 0;
}
