import { causedBy, derivedEventId, newEvent } from './envelope.js';
import type { ConnectorAlertRaised, ConnectorEvent, ConnectorSpec, ErrorInfo } from './types.js';

/** Failures that mean "the source is not reachable as configured": ops must hear about them. */
export const ALERTING_ERROR_CODES: ReadonlySet<string> = new Set(['CONNECTIVITY', 'TIMEOUT', 'TLS']);

export type PreflightStage = 'handshake' | 'schema check' | 'credential audit';

/**
 * The alert for a source that cannot be reached, or null when the error is not about reaching it
 * (a bad password is a finding for the preflight, not a page for ops). A connection lost after a
 * good handshake — during the schema check or the credential audit — alerts the same way, so no
 * stage can lose a source silently. Ids derive from the cause: a redelivery alerts once.
 */
export function unreachableSourceAlert(
  cause: ConnectorEvent,
  producer: string,
  spec: Pick<ConnectorSpec, 'name' | 'sourceType'>,
  error: ErrorInfo,
  stage: PreflightStage,
  details: Record<string, string> = {},
): ConnectorAlertRaised | null {
  if (!ALERTING_ERROR_CODES.has(error.code)) return null;
  const where = stage === 'handshake' ? 'source unreachable' : `source became unreachable during the ${stage}`;
  return newEvent(
    'connector.alert.raised',
    {
      alertId: `ALR-${derivedEventId(cause.eventId, 'alert').slice(0, 8)}`,
      kind: error.code,
      severity: 'CRITICAL',
      summary: `${spec.name}: ${spec.sourceType} ${where} (${error.code}): ${error.message}`,
      errorCode: error.code,
      details: { connector: spec.name, sourceType: spec.sourceType, stage, ...details },
    },
    causedBy(cause, producer, { outputType: 'connector.alert.raised' }),
  );
}
