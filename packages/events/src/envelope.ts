import { createHash, randomUUID } from 'node:crypto';
import { EVENT_CATALOG } from './catalog.js';
import type { Envelope, EventOf, EventType, PayloadOf, ConnectorEvent } from './types.js';

export interface EventContext {
  producer: string;
  tenantId: string;
  connectorId: string;
  correlationId: string;
  actor: string;
  causationId?: string | null;
  traceparent?: string | null;
  /** Defaults to `<eventType>:<correlationId>`: one event of a type per attempt. */
  idempotencyKey?: string;
  occurredAt?: Date;
  eventId?: string;
}

/** Builds a complete event: the envelope from `ctx`, the rest from `payload`. */
export function newEvent<T extends EventType>(type: T, payload: PayloadOf<T>, ctx: EventContext): EventOf<T> {
  const envelope: Envelope = {
    eventId: ctx.eventId ?? randomUUID(),
    eventType: type,
    eventVersion: EVENT_CATALOG[type].version,
    occurredAt: (ctx.occurredAt ?? new Date()).toISOString(),
    producer: ctx.producer,
    tenantId: ctx.tenantId,
    connectorId: ctx.connectorId,
    correlationId: ctx.correlationId,
    causationId: ctx.causationId ?? null,
    idempotencyKey: ctx.idempotencyKey ?? `${type}:${ctx.correlationId}`,
    traceparent: ctx.traceparent ?? null,
    actor: ctx.actor,
  };
  return { ...envelope, ...payload } as EventOf<T>;
}

/** The context for an event caused by `cause`: same tenant, connector and attempt. */
export function causedBy(cause: ConnectorEvent, producer: string, extra: Partial<EventContext> & { outputType?: EventType } = {}): EventContext {
  const { outputType, ...rest } = extra;
  return {
    ...(outputType ? { eventId: derivedEventId(cause.eventId, outputType) } : {}),
    producer,
    tenantId: cause.tenantId,
    connectorId: cause.connectorId,
    correlationId: cause.correlationId,
    causationId: cause.eventId,
    actor: `service:${producer.split('@')[0] ?? producer}`,
    traceparent: cause.traceparent,
    ...rest,
  };
}

/**
 * A stable UUID (v5-style, from SHA-256) for an event derived from other facts. A service that
 * handles the same input twice (a redelivery after a crash) emits the same eventId again, so every
 * consumer's eventId dedupe drops the repeat: one input, one outcome.
 */
export function derivedEventId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
