// What the MCP server needs of the platform: the HTTP API, called with the agent's own bearer
// token. Over stdio that is a real HTTP client (the CLI's); inside the projector it is the same
// routes through fastify's inject, so guards, tenant checks and errors are the REST API's own.

/** An error the API answered with, carrying what it said (status, code, every invalid field). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code?: string; message?: string; issues?: Array<{ field: string; message: string }> },
  ) {
    super(body.message ?? `HTTP ${status}`);
  }
}

/** An API answer as a value, or the ApiError it says; the same for a real request and an inject. */
export function parseApiResponse<T>(status: number, contentType: string, text: string): T {
  const parsed: unknown = text && contentType.includes('json') ? JSON.parse(text) : text;
  if (status >= 400) throw new ApiError(status, typeof parsed === 'object' && parsed ? parsed : { message: String(parsed) });
  return parsed as T;
}

export interface ApiCaller {
  /** Where the API is, for messages only. */
  readonly baseUrl: string;
  call<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  text(path: string, accept: string): Promise<string>;
}

/** An async preflight operation as the API answers it. */
export interface Operation {
  id: string;
  connectorId: string;
  tenantId: string;
  attemptId: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  done: boolean;
  createdAt: string;
  updatedAt: string;
  deadline: string;
  statusUrl: string;
  /** Seconds between polls. */
  pollInterval: number;
  /** Seconds the operation is kept once done. */
  ttl: number;
  idempotencyKey: string | null;
  result: { status: 'READY' | 'FAILED'; reason: string | null; validatedBy: string; receiptUrl?: string } | null;
  error: { code: string; message: string } | null;
  owner?: { principal: string; team: string | null } | null;
  cancelRequestedAt?: string | null;
}

export interface OperationTick {
  /** The connector's state when readable, else the operation's status. */
  status: string;
  /** The connector's latest event type, e.g. `connector.schema.checked`. */
  lastEvent: string | undefined;
  elapsedMs: number;
}

export const operationPath = (id: string): string => `/api/operations/${encodeURIComponent(id)}`;
export const connectorPath = (id: string, suffix = ''): string => `/api/connectors/${encodeURIComponent(id)}${suffix}`;

/**
 * Polls an operation at half its poll interval until it is done or `timeoutMs` passed, reading
 * the connector alongside so callers can show progress. The CLI and the MCP server both wait
 * this way.
 */
export async function waitForOperation(
  client: ApiCaller,
  connectorId: string,
  first: Operation,
  options: { timeoutMs: number; onTick: (t: OperationTick) => void; sleep?: (ms: number) => Promise<void>; signal?: AbortSignal },
): Promise<{ op: Operation; done: boolean }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  let op = first;
  while (!op.done) {
    if (Date.now() - started > options.timeoutMs || options.signal?.aborted) return { op, done: false };
    await sleep(Math.max(200, (op.pollInterval * 1000) / 2));
    op = await client.call<Operation>('GET', op.statusUrl);
    const c = await client.call<{ status: string; history: Array<{ eventType: string }> }>('GET', connectorPath(connectorId)).catch(() => undefined);
    options.onTick({ status: c?.status ?? op.status, lastEvent: c?.history.at(-1)?.eventType, elapsedMs: Date.now() - started });
  }
  return { op, done: true };
}
