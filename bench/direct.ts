// The architecture's own cost needs a floor that does the same work: the same handlers
// (handshake, schema check with its checkpoint, credential audit) and readiness's own
// evolve/decide, wired by an in-memory router instead of Kafka, with the concurrency the
// services use (6 partitions × 8 keys). pipeline / direct is then what Kafka, Avro, headers,
// dedupe and commits cost per preflight.
import { randomUUID } from 'node:crypto';
import type { Handlers } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { getConnector, type Scopes } from '@preflight/connectors';
import { newEvent, type ConnectorEvent, type ConnectorSpec } from '@preflight/events';
import { auditorHandlers } from '@preflight/credential-auditor';
import { handshakeHandlers } from '@preflight/handshake';
import { decide, DEFAULT_SETTINGS, evolve, type Attempt } from '@preflight/readiness';
import { noIncidentSink, schemaValidatorHandlers } from '@preflight/schema-validator';
import { percentile } from './env.js';

const CONCURRENCY = 48;

export interface DirectResult {
  n: number;
  rate: number;
  p50: number;
  p99: number;
  ready: number;
}

export async function directPipeline(n: number, spec: ConnectorSpec, scopes: Scopes, logger: Logger): Promise<DirectResult> {
  const queue: ConnectorEvent[] = [];
  const attempts = new Map<string, Attempt>();
  const sent = new Map<string, number>();
  const lat: number[] = [];
  let ready = 0;
  let last = 0;
  const publish = async (...events: ConnectorEvent[]): Promise<void> => void queue.push(...events);
  const handlers: Handlers[] = [
    handshakeHandlers({ connectors: getConnector, scopes, logger, publish }),
    schemaValidatorHandlers({ connectors: getConnector, scopes, logger, incidentSink: noIncidentSink, publish }),
    auditorHandlers({ connectors: getConnector, scopes, logger, publish }),
  ];
  const readiness = (e: ConnectorEvent): void => {
    if (e.eventType === 'connector.validated') {
      const t = sent.get(e.connectorId);
      if (t === undefined) return;
      last = performance.now();
      lat.push(last - t);
      if (e.status === 'READY') ready++;
      return;
    }
    if (e.eventType !== 'connector.handshake' && e.eventType !== 'connector.schema.checked' && e.eventType !== 'connector.credentials.audited') return;
    const a = evolve(attempts.get(e.correlationId), e, `direct:${e.eventId}`);
    const d = decide(a, new Date(), DEFAULT_SETTINGS);
    attempts.set(e.correlationId, d.attempt);
    queue.push(...d.events);
  };
  const dispatch = async (e: ConnectorEvent): Promise<void> => {
    readiness(e);
    for (const h of handlers) {
      const fn = (h as Record<string, ((x: ConnectorEvent) => Promise<void>) | undefined>)[e.eventType];
      if (fn) await fn(e);
    }
  };
  const first = performance.now();
  for (let i = 0; i < n; i++) {
    const connectorId = `direct-${i}`;
    sent.set(connectorId, first);
    queue.push(newEvent('connector.registered', { spec: { ...spec, name: connectorId }, autoPreflight: true }, { producer: 'bench@1', tenantId: 'bench', connectorId, correlationId: randomUUID(), actor: 'system:bench' }));
  }
  // A fixed pool of workers drains the queue; handlers append what they publish.
  let active = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (active < CONCURRENCY && queue.length > 0) {
        const e = queue.shift()!;
        active++;
        dispatch(e)
          .then(() => {
            active--;
            if (queue.length === 0 && active === 0) resolve();
            else pump();
          })
          .catch(reject);
      }
    };
    pump();
  });
  lat.sort((a, b) => a - b);
  return { n, rate: n / ((last - first) / 1000), p50: percentile(lat, 50), p99: percentile(lat, 99), ready };
}
