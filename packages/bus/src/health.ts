import { createServer, type Server } from 'node:http';
import type { Consumer } from 'kafkajs';

export type ConsumerState = 'starting' | 'joined' | 'rebalancing' | 'restarting' | 'crashed' | 'stopped';

export interface ConsumerHealth {
  groupId: string;
  state: ConsumerState;
  /** Partitions assigned at the last join, per topic. */
  assigned: Record<string, number[]>;
  lastHeartbeatAt?: string;
  lastError?: string;
}

export interface HealthReport {
  /** Ready: every consumer is in its group with a partition assignment. */
  ready: boolean;
  /** Live: nothing crashed for good; a restart would help. */
  live: boolean;
  consumers: ConsumerHealth[];
}

/**
 * Follows a kafkajs consumer through its instrumentation events, so health needs nothing from the
 * consumer loop itself: joined after GROUP_JOIN, restarting after a retriable CRASH, crashed
 * (not live) after one kafkajs will not restart from.
 */
export function trackConsumer(consumer: Consumer, groupId: string): ConsumerHealth {
  const h: ConsumerHealth = { groupId, state: 'starting', assigned: {} };
  const { events } = consumer;
  consumer.on(events.GROUP_JOIN, (e) => {
    h.state = 'joined';
    h.assigned = e.payload.memberAssignment;
    delete h.lastError;
  });
  consumer.on(events.REBALANCING, () => {
    h.state = 'rebalancing';
  });
  consumer.on(events.HEARTBEAT, (e) => {
    h.lastHeartbeatAt = new Date(e.timestamp).toISOString();
  });
  consumer.on(events.CRASH, (e) => {
    h.state = e.payload.restart ? 'restarting' : 'crashed';
    h.lastError = e.payload.error.message;
  });
  consumer.on(events.STOP, () => {
    h.state = 'stopped';
  });
  return h;
}

export function healthReport(consumers: readonly ConsumerHealth[]): HealthReport {
  return {
    ready: consumers.every((c) => c.state === 'joined'),
    live: consumers.every((c) => c.state !== 'crashed'),
    consumers: consumers.map((c) => ({ ...c, assigned: { ...c.assigned } })),
  };
}

/**
 * `GET /healthz` (liveness: 503 once a consumer crashed for good) and `GET /readyz` (readiness:
 * 503 until every consumer joined its group), both with the per-consumer report, for the
 * pipeline services that have no HTTP API of their own.
 */
export async function serveHealth(report: () => HealthReport, options: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const r = report();
    const ok = path === '/healthz' ? r.live : r.ready;
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: ok ? (path === '/healthz' ? 'ok' : 'ready') : path === '/healthz' ? 'crashed' : 'not ready', consumers: r.consumers }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
