import { METRIC } from '@preflight/core';
import { RETRIABLE_SOURCE_CODES } from '../errors.js';
import type { ConnectorManifest } from '../facade.js';

/** What differs between the SQL sources' manifests; the rest (retry, timeouts, approval, spans) is one policy. */
export interface SqlManifestOptions {
  type: string;
  displayName: string;
  config: { input: Record<string, unknown>; secretFields: string[] };
  defaultPort: number;
  /** How the source identity reads in the docs; the key itself is always `<type>://user@host:port/database`. */
  identity: string;
  auditFields: string[];
  rollback: string;
}

/** A read-only SQL source: one host:port endpoint, a password behind `secretRef`, the same operations and limits. */
export function sqlManifest(o: SqlManifestOptions): ConnectorManifest {
  const ops = ['handshake', 'discover', 'sample', 'pushdown', 'auditAccess'] as const;
  return {
    type: o.type,
    displayName: o.displayName,
    version: '1.0.0',
    class: 'data-movement',
    contract: { configSchema: o.config.input, secretFields: o.config.secretFields, endpoints: [{ host: 'host', port: 'port', defaultPort: o.defaultPort }], paths: [] },
    retry: { retriableCodes: RETRIABLE_SOURCE_CODES, attempts: 3, initialBackoffMs: 200, maxBackoffMs: 2_000 },
    timeouts: { handshake: 10_000, discover: 30_000, sample: 30_000, pushdown: 60_000, auditAccess: 30_000 },
    idempotency: {
      description: o.identity,
      key: (c) => {
        const x = c as { user: string; host: string; port: number; database: string };
        return `${o.type}://${x.user}@${x.host}:${x.port}/${x.database}`;
      },
    },
    approvalHook: { name: 'pii-in-production', description: 'READY needs a security_admin approval when the contract has PII and the connector targets production' },
    audit: { fields: o.auditFields, redacted: ['secretRef'] },
    observability: { spans: ops.map((op) => `connector.${o.type}.${op}`), metrics: [METRIC.handshake_duration_ms, METRIC.schema_check_duration_ms, METRIC.credential_audit_duration_ms] },
    rollback: o.rollback,
  };
}
