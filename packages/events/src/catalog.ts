import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { EventType } from './types.js';

/** Every event type, its current schema version and its schema file, in one place. */
export const EVENT_CATALOG = {
  'connector.registered': { version: 2, file: 'registered' },
  'connector.handshake.requested': { version: 1, file: 'handshake.requested' },
  'connector.handshake': { version: 2, file: 'handshake' },
  'connector.schema.checked': { version: 2, file: 'schema.checked' },
  'connector.credentials.audited': { version: 1, file: 'credentials.audited' },
  'connector.validated': { version: 1, file: 'validated' },
  'connector.incident.opened': { version: 1, file: 'incident.opened' },
  'connector.alert.raised': { version: 1, file: 'alert.raised' },
  'connector.approval.requested': { version: 1, file: 'approval.requested' },
  'connector.approval.decided': { version: 1, file: 'approval.decided' },
  'connector.cancel.requested': { version: 1, file: 'cancel.requested' },
  'connector.updated': { version: 1, file: 'updated' },
  'connector.deregistered': { version: 1, file: 'deregistered' },
  'connector.incident.resolved': { version: 1, file: 'incident.resolved' },
} as const satisfies Record<EventType, { version: number; file: string }>;

export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_CATALOG, value);
}

export function schemaPath(type: EventType, version: number = EVENT_CATALOG[type].version): URL {
  return new URL(`../../../schemas/events/connector/${EVENT_CATALOG[type].file}.v${version}.avsc`, import.meta.url);
}

const schemaCache = new Map<string, Record<string, unknown>>();
const typeCache = new Map<string, avro.Type>();

/** The Avro schema (parsed JSON) of an event type's current version. */
export function eventSchema(type: EventType, version: number = EVENT_CATALOG[type].version): Record<string, unknown> {
  const key = `${type}@${version}`;
  let schema = schemaCache.get(key);
  if (!schema) {
    schema = JSON.parse(readFileSync(schemaPath(type, version), 'utf8')) as Record<string, unknown>;
    schemaCache.set(key, schema);
  }
  return schema;
}

/** avsc Type for an event type's current version, built once per process. */
export function eventAvroType(type: EventType, version: number = EVENT_CATALOG[type].version): avro.Type {
  const key = `${type}@${version}`;
  let t = typeCache.get(key);
  if (!t) {
    t = avro.Type.forSchema(eventSchema(type, version) as avro.Schema, { logicalTypes: {} });
    typeCache.set(key, t);
  }
  return t;
}

/**
 * Topic names for one deployment. Tests pass a random prefix so each test owns its topics;
 * production uses the bare names (`connector.handshake`, ...).
 */
export interface Topics {
  prefix: string;
  of(type: EventType): string;
  dlq(topic: string): string;
  state: string;
  /** Readiness's changelog of attempts in flight (compacted, co-partitioned with its inputs). */
  attempts: string;
  all(): string[];
  /** The event type a topic carries, or undefined for topics outside the catalog. */
  typeOf(topic: string): EventType | undefined;
}

export function topicsFor(prefix = ''): Topics {
  const of = (type: EventType): string => `${prefix}${type}`;
  const byTopic = new Map(EVENT_TYPES.map((t) => [of(t), t] as const));
  return {
    prefix,
    of,
    dlq: (topic) => `${topic}.dlq`,
    state: `${prefix}connector.state`,
    attempts: `${prefix}preflight.readiness.attempts`,
    all: () => EVENT_TYPES.map(of),
    typeOf: (topic) => byTopic.get(topic),
  };
}

/** Confluent's TopicNameStrategy: the registry subject of a topic's values. */
export function subjectFor(topic: string): string {
  return `${topic}-value`;
}
