// MCP over Streamable HTTP at /mcp, served by the API itself, for agent platforms that cannot
// start a local process. The bearer token is the REST API's: a missing or bad one gets 401 with
// a `WWW-Authenticate` naming the protected-resource metadata (RFC 9728), which names the
// platform's authorization server, as MCP's authorization spec asks. Each session is bound to
// the principal that opened it, and every tool call goes through the REST routes (by inject)
// with the token of the request that carried it, so tenant isolation is the REST API's own.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { isPreflightError } from '@preflight/core';
import type { Authenticator, Principal } from '@preflight/auth';
import { parseApiResponse, type ApiCaller } from './api.js';
import { createMcpServer } from './server.js';

export interface McpHttpOptions {
  auth: Authenticator;
  /** The API whose routes the tools call (the root fastify instance). */
  api: FastifyInstance;
  /** The OAuth authorization server(s) to name; default the token issuer, else the API itself. */
  authorizationServers?: string[];
  /** Browser origins other than the API's own that may call /mcp. */
  allowedOrigins?: string[];
  /** The API's public URL as agents reach it; absent: each request's own origin. */
  publicUrl?: string;
  /** A session unused this long is closed. */
  sessionIdleMs?: number;
}

const METADATA_PATH = '/.well-known/oauth-protected-resource';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  principal: Principal;
  /** The token of the latest request in this session: tool calls run with it. */
  token: string;
  lastSeen: number;
}

/** The REST API called in-process, with a token, exactly as a remote client would call it. */
class InjectApi implements ApiCaller {
  constructor(
    private readonly app: FastifyInstance,
    private readonly token: () => string,
    readonly baseUrl: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.app.inject({
      method: method as 'GET',
      url: path,
      headers: { authorization: `Bearer ${this.token()}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return parseApiResponse<T>(res.statusCode, String(res.headers['content-type'] ?? ''), res.body);
  }

  async text(path: string, accept: string): Promise<string> {
    const res = await this.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${this.token()}`, accept } });
    if (res.statusCode >= 400) parseApiResponse(res.statusCode, String(res.headers['content-type'] ?? ''), res.body);
    return res.body;
  }
}

const rpcError = (reply: FastifyReply, status: number, code: number, message: string): FastifyReply => reply.code(status).send({ jsonrpc: '2.0', id: null, error: { code, message } });

export async function mcpHttp(app: FastifyInstance, options: McpHttpOptions): Promise<void> {
  const origin = (req: FastifyRequest): string => options.publicUrl?.replace(/\/$/, '') ?? `${req.protocol}://${req.headers.host ?? req.hostname}`;
  const sessions = new Map<string, Session>();
  const idleMs = options.sessionIdleMs ?? 60 * 60 * 1000;

  const metadata = async (req: FastifyRequest) => ({
    resource: `${origin(req)}/mcp`,
    authorization_servers: options.authorizationServers ?? (options.auth.issuer ? [options.auth.issuer] : [origin(req)]),
    bearer_methods_supported: ['header'],
    resource_name: 'Connector Preflight MCP',
    resource_documentation: `${origin(req)}/openapi.json`,
  });
  // Clients look first at the path-suffixed form (RFC 9728 section 3.1), then at the root.
  app.get(METADATA_PATH, { schema: { tags: ['mcp'], security: [], description: 'OAuth 2.0 protected-resource metadata (RFC 9728) for /mcp' } }, metadata);
  app.get(`${METADATA_PATH}/mcp`, { schema: { hide: true } }, metadata);

  /** The principal, or the 401/403 already sent: the challenge points at the metadata. */
  const authenticate = async (req: FastifyRequest, reply: FastifyReply): Promise<{ principal: Principal; token: string } | undefined> => {
    try {
      const principal = await options.auth.verify(req.headers.authorization);
      return { principal, token: /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')![1]! };
    } catch (e) {
      const message = isPreflightError(e) ? e.message : 'invalid token';
      const forbidden = isPreflightError(e) && e.code === 'FORBIDDEN';
      const params = [`resource_metadata="${origin(req)}${METADATA_PATH}/mcp"`, ...(req.headers.authorization ? [`error="${forbidden ? 'insufficient_scope' : 'invalid_token'}"`, `error_description="${message.replace(/"/g, "'")}"`] : [])];
      void reply
        .code(forbidden ? 403 : 401)
        .header('www-authenticate', `Bearer ${params.join(', ')}`)
        .send({ code: forbidden ? 'FORBIDDEN' : 'UNAUTHORIZED', message });
      return undefined;
    }
  };

  const allowedOrigins = options.allowedOrigins ?? [];
  const handle = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    // The transport spec asks servers to check Origin (DNS rebinding); browsers send it, agents
    // on a server usually do not.
    const from = req.headers.origin;
    if (from && from !== origin(req) && !allowedOrigins.includes(from)) return reply.code(403).send({ code: 'FORBIDDEN', message: `origin ${from} may not call /mcp (PREFLIGHT_MCP_ALLOWED_ORIGINS lists the allowed ones)` });
    const who = await authenticate(req, reply);
    if (!who) return reply;
    const sessionId = req.headers['mcp-session-id'];
    let session: Session | undefined;
    if (typeof sessionId === 'string') {
      session = sessions.get(sessionId);
      // A session is its opener's: another principal's request answers as for an unknown session.
      if (!session || session.principal.subject !== who.principal.subject || session.principal.tenant !== who.principal.tenant) return rpcError(reply, 404, -32001, 'Session not found (expired, closed, or not yours); initialize a new one');
      session.token = who.token;
      session.lastSeen = Date.now();
    } else {
      if (req.method !== 'POST' || !isInitializeRequest(req.body)) return rpcError(reply, 400, -32000, 'Bad Request: send initialize without Mcp-Session-Id to open a session, then send its Mcp-Session-Id on every request');
      const fresh: Session = {
        transport: new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void sessions.set(id, fresh),
        }),
        server: undefined as unknown as Server,
        principal: who.principal,
        token: who.token,
        lastSeen: Date.now(),
      };
      fresh.server = createMcpServer(new InjectApi(options.api, () => fresh.token, origin(req)));
      fresh.transport.onclose = () => {
        if (fresh.transport.sessionId) sessions.delete(fresh.transport.sessionId);
      };
      await fresh.server.connect(fresh.transport);
      session = fresh;
    }
    reply.hijack();
    await session.transport.handleRequest(req.raw, reply.raw, req.body);
    return undefined;
  };

  for (const method of ['POST', 'GET', 'DELETE'] as const) app.route({ method, url: '/mcp', schema: { tags: ['mcp'], description: 'MCP Streamable HTTP (protocol 2025-11-25); bearer token as for the API' }, handler: handle });

  const sweep = setInterval(() => {
    for (const [id, s] of sessions) {
      if (Date.now() - s.lastSeen > idleMs) {
        sessions.delete(id);
        void s.server.close();
      }
    }
  }, 60_000);
  sweep.unref();
  // Before the server stops accepting: open SSE streams would otherwise keep it from closing.
  app.addHook('preClose', async () => {
    clearInterval(sweep);
    await Promise.all([...sessions.values()].map((s) => s.server.close()));
    sessions.clear();
  });
}
