import type { IHeaders } from 'kafkajs';
import type { ConnectorEvent } from '@preflight/events';

/**
 * CloudEvents Kafka protocol binding, binary content mode: the envelope's attributes mirrored as
 * `ce_*` headers so a router can act without decoding Avro.
 */
export function cloudEventHeaders(event: ConnectorEvent, schemaId: number): IHeaders {
  const headers: IHeaders = {
    ce_specversion: '1.0',
    ce_id: event.eventId,
    ce_type: event.eventType,
    ce_source: `/preflight/${event.producer}`,
    ce_time: event.occurredAt,
    ce_subject: event.connectorId,
    ce_dataschema: `schema-registry:${schemaId}`,
    ce_tenantid: event.tenantId,
    ce_correlationid: event.correlationId,
    'content-type': 'application/avro',
  };
  if (event.traceparent) {
    headers['traceparent'] = event.traceparent;
    headers['ce_traceparent'] = event.traceparent;
  }
  return headers;
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}
