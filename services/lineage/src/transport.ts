import { PreflightError } from '@preflight/core';
import type { RunEvent } from './openlineage.js';

export interface LineageTransport {
  emit(event: RunEvent): Promise<void>;
}

/**
 * Marquez's `POST /api/v1/lineage`, the de-facto OpenLineage HTTP endpoint. A failure is a
 * retriable error, so the bus retries with backoff and, in the end, dead-letters the input event:
 * lineage is never lost silently, and never holds up the pipeline (this is its own consumer group).
 */
export class HttpLineageTransport implements LineageTransport {
  constructor(
    private readonly url: string,
    private readonly options: { timeoutMs?: number; apiKey?: string } = {},
  ) {}

  async emit(event: RunEvent): Promise<void> {
    const target = `${this.url.replace(/\/$/, '')}/api/v1/lineage`;
    let res: Response;
    try {
      res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
    } catch (e) {
      throw new PreflightError('CONNECTIVITY', `OpenLineage endpoint ${target}: ${(e as Error).message}`, { cause: e, retriable: true });
    }
    await res.arrayBuffer();
    if (res.status >= 500 || res.status === 429) throw new PreflightError('CONNECTIVITY', `OpenLineage endpoint ${target} answered HTTP ${res.status}`, { retriable: true });
    if (res.status >= 400) throw new PreflightError('CONFIG', `OpenLineage endpoint ${target} refused the event: HTTP ${res.status}`, { retriable: false });
  }
}
