/** A thin HTTP client for the projector API, with errors that say what the API said. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code?: string; message?: string; issues?: Array<{ field: string; message: string }> },
  ) {
    super(body.message ?? `HTTP ${status}`);
  }
}

export class Client {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      throw new ApiError(0, { code: 'CONNECTIVITY', message: `cannot reach the API at ${this.baseUrl} (${(e as Error).message}); is the platform running (npm start)?` });
    }
    const text = await res.text();
    const parsed: unknown = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    if (!res.ok) throw new ApiError(res.status, (typeof parsed === 'object' && parsed ? parsed : { message: String(parsed) }));
    return parsed as T;
  }

  async text(path: string, accept: string): Promise<string> {
    const res = await fetch(`${this.baseUrl}${path}`, { headers: { authorization: `Bearer ${this.token}`, accept }, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, (JSON.parse(text || '{}') as ApiError['body']) ?? {});
    return text;
  }
}

/** An async preflight operation as the API answers it. */
export interface Operation {
  id: string;
  status: string;
  done: boolean;
  statusUrl: string;
  pollInterval: number;
  result: { status: 'READY' | 'FAILED'; reason: string | null; validatedBy: string } | null;
  error: { code: string; message: string } | null;
}

export interface OperationTick {
  /** The connector's state when readable, else the operation's status. */
  status: string;
  /** The connector's latest event type, e.g. `connector.schema.checked`. */
  lastEvent: string | undefined;
  elapsedMs: number;
}

/**
 * Polls an operation at half its poll interval until it is done or `timeoutMs` passed, reading
 * the connector alongside so callers can show progress. The CLI and the MCP server both wait
 * this way.
 */
export async function waitForOperation(
  client: Client,
  connectorId: string,
  first: Operation,
  options: { timeoutMs: number; onTick: (t: OperationTick) => void; sleep?: (ms: number) => Promise<void> },
): Promise<{ op: Operation; done: boolean }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  let op = first;
  while (!op.done) {
    if (Date.now() - started > options.timeoutMs) return { op, done: false };
    await sleep(Math.max(200, (op.pollInterval * 1000) / 2));
    op = await client.call<Operation>('GET', op.statusUrl);
    const c = await client.call<{ status: string; history: Array<{ eventType: string }> }>('GET', `/api/connectors/${encodeURIComponent(connectorId)}`).catch(() => undefined);
    options.onTick({ status: c?.status ?? op.status, lastEvent: c?.history.at(-1)?.eventType, elapsedMs: Date.now() - started });
  }
  return { op, done: true };
}
