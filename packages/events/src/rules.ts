import type { ConnectorCredentialsAudited, ConnectorHandshake, ConnectorSchemaChecked, Finding } from './types.js';

/**
 * The platform's shared verdict rules: each fact that more than one service needs (what fails an
 * audit, how a check is summarised, the connector states, the services' consumer groups) is
 * decided here once, so a change to it cannot miss a copy.
 */

/** Finding severities that fail the credential audit; INFO and WARNING are reported but pass. */
export const FAILING_SEVERITIES: ReadonlySet<string> = new Set(['HIGH', 'CRITICAL']);

export function isFailingFinding(f: Pick<Finding, 'severity'>): boolean {
  return FAILING_SEVERITIES.has(f.severity);
}

/** The findings that fail the audit, in their order. */
export function failingFindings<F extends Pick<Finding, 'severity'>>(findings: readonly F[]): F[] {
  return findings.filter(isFailingFinding);
}

/** The audit's verdict from its findings: any failing finding fails it. */
export function auditVerdict(findings: readonly Pick<Finding, 'severity'>[]): 'PASS' | 'FAIL' {
  return findings.some(isFailingFinding) ? 'FAIL' : 'PASS';
}

/** A preflight's checks by the name the receipt gives them, in the order they run. */
export const CHECK_NAMES = ['handshake', 'schema_check', 'credential_audit'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** A check's result that is not a pass: the attempt fails. */
export function checkFailed(status: string | undefined): boolean {
  return status === 'FAIL' || status === 'ERROR';
}

const errorText = (e: { code: string; message: string } | null | undefined): string => `${e?.code}: ${e?.message}`;

/** One line about a handshake, as the receipt and the connector's timeline show it. */
export function handshakeSummary(h: Pick<ConnectorHandshake, 'status' | 'serverVersion' | 'tls' | 'latencyMs' | 'error'>): string {
  if (h.status !== 'COMPLETED') return errorText(h.error);
  return `${h.serverVersion ?? 'source'}${h.tls?.enabled ? ` over ${h.tls.protocol ?? 'TLS'}` : ''}, ${h.latencyMs?.toFixed(1) ?? '?'} ms round trip`;
}

/** One line about a schema check: contract differences, the quality checkpoint, its severity. */
export function schemaCheckSummary(s: Pick<ConnectorSchemaChecked, 'diff' | 'checkpoint' | 'severity' | 'error'>): string {
  if (s.error) return errorText(s.error);
  const errors = s.diff.filter((d) => d.severity === 'ERROR').length;
  const cp = s.checkpoint;
  return `${errors} contract difference(s); checkpoint ${cp ? `${cp.successfulExpectations}/${cp.evaluatedExpectations} expectations met` : 'not run'}${s.severity ? `; severity ${s.severity}` : ''}`;
}

/** One line about a credential audit: the failing findings' codes, or the principal that passed. */
export function credentialAuditSummary(c: Pick<ConnectorCredentialsAudited, 'findings' | 'principal' | 'error'>): string {
  if (c.error) return errorText(c.error);
  const bad = failingFindings(c.findings);
  return bad.length ? bad.map((f) => f.code).join(', ') : `least privilege as ${c.principal ?? 'n/a'}`;
}

/**
 * A connector's preflight state, in the order a preflight moves through them. REGISTERED also
 * means "changed since its last preflight" (an update sends the connector back there); RETIRED is
 * final (deregistered).
 */
export const CONNECTOR_STATES = ['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL', 'READY', 'FAILED', 'RETIRED'] as const;
export type ConnectorStatus = (typeof CONNECTOR_STATES)[number];

/** The states of a preflight still under way (before its outcome). */
export const IN_PROGRESS_STATES: readonly ConnectorStatus[] = CONNECTOR_STATES.filter((s) => s !== 'READY' && s !== 'FAILED' && s !== 'RETIRED');

/** The platform's services that consume as one consumer group each, by the name they give it. */
export const CONSUMER_SERVICES = ['handshake', 'schema-validator', 'credential-auditor', 'readiness', 'projector'] as const;

const GROUP_HEAD = 'preflight.';

/** A service's consumer group: `<prefix>preflight.<service>[.<instance>]`. */
export function serviceGroupId(prefix: string, service: string, instance = ''): string {
  return `${prefix}${GROUP_HEAD}${service}${instance ? `.${instance}` : ''}`;
}

/** `<prefix>preflight.<service>[.<instance>]` → `<service>[.<instance>]`; any other group as it is. */
export function serviceOfGroup(prefix: string, groupId: string): string {
  const head = `${prefix}${GROUP_HEAD}`;
  return groupId.startsWith(head) ? groupId.slice(head.length) : groupId;
}
