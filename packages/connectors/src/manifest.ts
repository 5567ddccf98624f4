import { METRICS } from '@preflight/core';
import { schemaLeaf as leafOf, SECRET } from './config.js';
import type { ConnectorManifest } from './facade.js';

const SEMVER = /^\d+\.\d+\.\d+(-[\w.]+)?$/;
const OPS = ['handshake', 'discover', 'sample', 'pushdown', 'auditAccess'] as const;

/** Every part the facade standard requires, checked as data; returns what is missing or wrong. */
export function validateManifest(m: Partial<ConnectorManifest>): string[] {
  const problems: string[] = [];
  const need = (ok: unknown, what: string): void => void (ok ? undefined : problems.push(what));
  need(typeof m.type === 'string' && m.type, 'type');
  need(typeof m.version === 'string' && SEMVER.test(m.version), 'version (semver)');
  need(m.class === 'data-movement' || m.class === 'runtime-tool', 'class (data-movement | runtime-tool)');
  need(m.contract && typeof m.contract.configSchema === 'object' && Array.isArray(m.contract.secretFields), 'contract (configSchema, secretFields)');
  const schemaLeaf = (path: string): Record<string, unknown> | undefined => (m.contract?.configSchema ? leafOf(m.contract.configSchema, path) : undefined);
  for (const f of m.contract?.secretFields ?? []) {
    const leaf = schemaLeaf(f);
    need(leaf?.[SECRET] === true, `contract: secret field ${f} is not marked secret in configSchema`);
  }
  const declared = (path: string): boolean => !!schemaLeaf(path);
  need(Array.isArray(m.contract?.endpoints) && Array.isArray(m.contract?.paths), 'contract (endpoints, paths): where the config keeps addresses and local paths, for the tenant scope');
  for (const e of m.contract?.endpoints ?? []) for (const f of 'url' in e ? [e.url] : [e.host, e.port]) need(declared(f), `contract: endpoint field ${f} is not in configSchema`);
  for (const f of m.contract?.paths ?? []) need(declared(f), `contract: path field ${f} is not in configSchema`);
  need(m.retry && Array.isArray(m.retry.retriableCodes) && m.retry.attempts >= 1 && m.retry.initialBackoffMs > 0 && m.retry.maxBackoffMs >= m.retry.initialBackoffMs, 'retry policy');
  for (const op of OPS) need(m.timeouts && typeof m.timeouts[op] === 'number' && m.timeouts[op] > 0, `timeouts.${op}`);
  need(m.idempotency && typeof m.idempotency.description === 'string' && typeof m.idempotency.key === 'function', 'idempotency key derivation');
  need(m.approvalHook && m.approvalHook.name && m.approvalHook.description, 'approval policy hook');
  need(m.audit && Array.isArray(m.audit.fields) && Array.isArray(m.audit.redacted), 'audit field mapping');
  for (const f of m.contract?.secretFields ?? []) need(m.audit?.redacted.includes(f) && !m.audit.fields.includes(f), `audit: secret field ${f} must be redacted`);
  need(m.observability && m.observability.spans.length > 0 && m.observability.metrics.length > 0, 'observability hooks (spans, metrics)');
  for (const k of m.observability?.metrics ?? []) need(Object.hasOwn(METRICS, k), `observability: metric ${k} is not in the semantic catalogue`);
  need(typeof m.rollback === 'string' && m.rollback.length > 10, 'rollback notes');
  return problems;
}
