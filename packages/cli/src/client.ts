/** A thin HTTP client for the projector API, with errors that say what the API said. */
// The projector's client half only (no imports of its own): the CLI starts without loading the service.
import { ApiError, parseApiResponse, type ApiCaller } from '@preflight/projector/client';

export { ApiError, waitForOperation, type Operation, type OperationTick } from '@preflight/projector/client';

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
    return parseApiResponse<T>(res.status, res.headers.get('content-type') ?? '', await res.text());
  }

  async text(path: string, accept: string): Promise<string> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { headers: { authorization: `Bearer ${this.token}`, accept }, signal: AbortSignal.timeout(15_000) });
    } catch (e) {
      throw new ApiError(0, { code: 'CONNECTIVITY', message: `cannot reach the API at ${this.baseUrl} (${(e as Error).message}); is the platform running (npm start)?` });
    }
    const text = await res.text();
    if (!res.ok) parseApiResponse(res.status, res.headers.get('content-type') ?? '', text);
    return text;
  }
}
