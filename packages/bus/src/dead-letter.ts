import type { IHeaders, Message } from 'kafkajs';
import type { PreflightError } from '@preflight/core';

/** A record as it was read, for setting it aside. */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/**
 * The record for `<topic>.dlq`: the original bytes and headers, with why and where from in
 * `dlq_*` headers, so a person (and the dead-letter counts per group) can tell who gave up on what.
 */
export function deadLetterMessage(source: DeadLetterSource, reason: PreflightError, groupId: string, now: Date): Message {
  return {
    key: source.key,
    value: source.value,
    headers: {
      ...source.headers,
      dlq_reason: reason.message.slice(0, 2000),
      dlq_error_code: reason.code,
      dlq_source_topic: source.topic,
      dlq_source_partition: String(source.partition),
      dlq_source_offset: source.offset,
      dlq_consumer_group: groupId,
      dlq_failed_at: now.toISOString(),
    },
  };
}
