import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ErpApiOptions {
  /** Bearer token the API accepts. */
  token?: string;
  /** Basic credentials the API accepts. */
  basic?: { username: string; password: string };
  /** Scopes reported by /auth/tokeninfo; datasets without `<name>:read` answer 403. */
  scopes?: string[];
  customers?: number;
  /** Bearer tokens that were valid once: answered 401 with an RFC 6750 `invalid_token` challenge. */
  expiredTokens?: string[];
  /** Accept TCP connections and never answer: the worst kind of source. */
  silent?: boolean;
}

export interface ErpApiHandle {
  url: string;
  port: number;
  requests: string[];
  close(): Promise<void>;
}

const openapi = {
  openapi: '3.0.3',
  info: { title: 'ERP API', version: '4.2.0' },
  paths: {
    '/customers': { get: { responses: { '200': { content: { 'application/json': { schema: { type: 'object', properties: { data: { type: 'array', items: { $ref: '#/components/schemas/Customer' } } } } } } } } } },
    '/orders': { get: { responses: { '200': { content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Order' } } } } } } } },
    '/customers/{id}': { get: { responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Customer' } } } } } } },
  },
  components: {
    schemas: {
      Customer: {
        type: 'object',
        required: ['id', 'email', 'country'],
        properties: { id: { type: 'integer' }, email: { type: 'string' }, country: { type: 'string' }, created_at: { type: 'string', format: 'date-time' } },
      },
      Order: { type: 'object', required: ['order_id'], 'x-primary-key': ['order_id'], properties: { order_id: { type: 'integer' }, customer_id: { type: 'integer' }, amount: { type: 'number' }, placed_on: { type: 'string', format: 'date' } } },
    },
  },
};

/** An ERP-style JSON API on a free loopback port: health, OpenAPI, token info, paged lists. */
export async function startErpApiFixture(options: ErpApiOptions = {}): Promise<ErpApiHandle> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const n = options.customers ?? 120;
  const customers = Array.from({ length: n }, (_, i) => ({ id: i + 1, email: `customer${i + 1}@example.com`, country: ['DE', 'FR', 'NL', 'US'][i % 4], created_at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString() }));
  const orders = Array.from({ length: 2 * n }, (_, i) => ({ order_id: i + 1, customer_id: (i % n) + 1, amount: Math.round((i * 37) % 500) / 2, placed_on: '2026-02-01' }));
  const scopes = options.scopes ?? ['customers:read', 'orders:read'];
  const authorized = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization ?? '';
    if (options.token && h === `Bearer ${options.token}`) return true;
    if (options.basic && h === `Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString('base64')}`) return true;
    return false;
  };
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', server: 'erp-api/4.2.0' }).end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (options.silent) return; // hold the request open forever
    const url = new URL(req.url ?? '/', 'http://x');
    if (options.expiredTokens?.some((t) => req.headers.authorization === `Bearer ${t}`)) {
      res.setHeader('www-authenticate', 'Bearer realm="erp", error="invalid_token", error_description="The access token expired"');
      return send(res, 401, { error: 'invalid_token' });
    }
    if (!authorized(req)) return send(res, 401, { error: 'unauthorized' });
    const page = <T>(rows: T[]): T[] => rows.slice(Number(url.searchParams.get('offset') ?? 0), Number(url.searchParams.get('offset') ?? 0) + Number(url.searchParams.get('limit') ?? 50));
    switch (url.pathname) {
      case '/health':
        return send(res, 200, { status: 'ok', version: 'erp-api 4.2.0', principal: options.basic?.username ?? 'svc-preflight' });
      case '/openapi.json':
        return send(res, 200, openapi);
      case '/auth/tokeninfo':
        return send(res, 200, { sub: options.basic?.username ?? 'svc-preflight', scopes });
      case '/customers':
        return scopes.includes('customers:read') ? send(res, 200, { data: page(customers) }) : send(res, 403, { error: 'forbidden' });
      case '/orders':
        return scopes.includes('orders:read') ? send(res, 200, page(orders)) : send(res, 403, { error: 'forbidden' });
      default:
        return send(res, 404, { error: 'not found' });
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A TCP port that accepts connections and never says a word (for every connector type). */
export async function startSilentPort(): Promise<{ port: number; close(): Promise<void> }> {
  const { createServer: createTcp } = await import('node:net');
  const sockets = new Set<Socket>();
  const srv = createTcp((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
