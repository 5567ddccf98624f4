import { PreflightError, type Logger } from '@preflight/core';
import type { IncidentResolution, IncidentTicket } from './decide.js';

/**
 * `open` the first time a problem is seen (or again after it was resolved), `update` for a repeat
 * while it is open, `resolve` when a later check shows it gone.
 */
export type IncidentMessage = (IncidentTicket & { action: 'open' | 'update' }) | (IncidentResolution & { action: 'resolve' });

/** Where incident tickets go: a webhook in production (PagerDuty, Jira, ServiceNow bridges). */
export interface IncidentSink {
  /** Returns a short delivery status for the message, e.g. `delivered:201` or `failed:...`. */
  deliver(message: IncidentMessage): Promise<string>;
}

export const noIncidentSink: IncidentSink = { deliver: async () => 'not-configured' };

/**
 * POSTs the message as JSON with an Idempotency-Key (incident id and attempt), so a receiver that
 * sees a retry can drop it, while a repeat of the same problem in a later attempt arrives under
 * the same incident id (PagerDuty's dedup_key, a Jira issue key) as an update, not a new ticket,
 * and its resolution under that id too (`action: resolve`; one attempt never both opens and
 * resolves one incident, so the key stays unique). Retries transient failures (network, 5xx,
 * 429) with backoff; a 4xx is final.
 */
export class WebhookIncidentSink implements IncidentSink {
  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly options: { attempts?: number; timeoutMs?: number; headers?: Record<string, string> } = {},
  ) {
    try {
      new URL(url);
    } catch {
      throw new PreflightError('CONFIG', `INCIDENT_WEBHOOK_URL is not a URL: ${url}`, { retriable: false });
    }
  }

  async deliver(ticket: IncidentMessage): Promise<string> {
    const attempts = this.options.attempts ?? 3;
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `${ticket.incidentId}/${ticket.attemptId}`, ...this.options.headers },
          body: JSON.stringify(ticket),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
        });
        await res.arrayBuffer();
        if (res.ok) return `delivered:${res.status}`;
        last = `http ${res.status}`;
        if (res.status < 500 && res.status !== 429) break;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    }
    this.logger.error({ incidentId: ticket.incidentId, action: ticket.action, reason: last }, 'incident webhook delivery failed');
    return `failed:${last}`.slice(0, 200);
  }
}
