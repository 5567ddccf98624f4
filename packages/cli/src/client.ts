/** A thin HTTP client for the projector API, with errors that say what the API said. */
import { ApiError, type ApiCaller } from '@preflight/projector';

export { ApiError, waitForOperation, type ApiOperation as Operation, type OperationTick } from '@preflight/projector';

export class Client implements ApiCaller {
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
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { headers: { authorization: `Bearer ${this.token}`, accept }, signal: AbortSignal.timeout(15_000) });
    } catch (e) {
      throw new ApiError(0, { code: 'CONNECTIVITY', message: `cannot reach the API at ${this.baseUrl} (${(e as Error).message}); is the platform running (npm start)?` });
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, (JSON.parse(text || '{}') as ApiError['body']) ?? {});
    return text;
  }
}
