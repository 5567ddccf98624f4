import { isPreflightError, type FieldIssue } from '@preflight/core';
import { getConnector, TENANT_ID, type ConnectorManifest } from '@preflight/connectors';
import { parseContract } from '@preflight/contracts';
import type { ConnectorSpec } from '@preflight/events';
import { allTenants, type Principal } from '@preflight/auth';

const ENVIRONMENTS = ['production', 'staging', 'development'];
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/** Validates a registration the way Kafka Connect's validate does: every problem, at once. */
export function validateRegistration(body: unknown, principal: Principal): { issues: FieldIssue[]; spec?: ConnectorSpec; tenant: string; autoPreflight: boolean; config?: { manifest: ConnectorManifest; value: unknown } } {
  const issues: FieldIssue[] = [];
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (!body || typeof body !== 'object' || Array.isArray(body)) issues.push({ field: 'body', message: 'must be a JSON object' });
  const name = b['name'];
  if (typeof name !== 'string' || !NAME.test(name)) issues.push({ field: 'name', message: name === undefined || name === '' ? 'is required (letters, digits, . _ -; at most 63)' : 'must be letters, digits, . _ - (at most 63, starting with a letter or digit)', value: name });
  const sourceType = b['sourceType'];
  let configNormalized: unknown = undefined;
  let manifest: ConnectorManifest | undefined;
  if (typeof sourceType !== 'string') issues.push({ field: 'sourceType', message: 'is required (postgres, mysql, rest, files)', value: sourceType });
  else {
    try {
      const module = getConnector(sourceType);
      const config = b['config'];
      if (!config || typeof config !== 'object' || Array.isArray(config)) issues.push({ field: 'config', message: 'must be an object' });
      else {
        try {
          configNormalized = module.parseConfig({ ...(config as Record<string, unknown>), type: module.manifest.type });
          manifest = module.manifest;
        } catch (e) {
          if (isPreflightError(e) && e.issues.length) issues.push(...e.issues);
          else issues.push({ field: 'config', message: (e as Error).message });
        }
      }
    } catch {
      issues.push({ field: 'sourceType', message: 'must be one of postgres, mysql, mariadb, rest, files', value: sourceType });
    }
  }
  const contract = b['contract'];
  if (contract !== undefined && contract !== null) {
    if (typeof contract !== 'string') issues.push({ field: 'contract', message: 'must be the ODCS v3 contract as a YAML string' });
    else {
      try {
        parseContract(contract);
      } catch (e) {
        if (isPreflightError(e)) issues.push(...e.issues.map((i) => ({ ...i, field: `contract.${i.field}` })));
      }
    }
  } else issues.push({ field: 'contract', message: 'is required: the ODCS v3 data contract the source must meet' });
  const environment = b['environment'] ?? 'development';
  if (typeof environment !== 'string' || !ENVIRONMENTS.includes(environment)) issues.push({ field: 'environment', message: `must be one of ${ENVIRONMENTS.join(', ')}`, value: environment });
  const labels = b['labels'] ?? {};
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string')) issues.push({ field: 'labels', message: 'must map names to strings' });
  let tenant = principal.tenant;
  if (b['tenant'] !== undefined) {
    if (typeof b['tenant'] !== 'string' || !TENANT_ID.test(b['tenant'])) issues.push({ field: 'tenant', message: 'must be a tenant id', value: b['tenant'] });
    else if (b['tenant'] !== principal.tenant && !allTenants(principal)) issues.push({ field: 'tenant', message: 'you may register connectors only in your own tenant', value: b['tenant'] });
    else tenant = b['tenant'];
  }
  if (!tenant) issues.push({ field: 'tenant', message: 'is required for a token without a tenant claim' });
  if (b['autoPreflight'] !== undefined && typeof b['autoPreflight'] !== 'boolean') issues.push({ field: 'autoPreflight', message: 'must be true or false' });
  const parsed = manifest ? { config: { manifest, value: configNormalized } } : {};
  if (issues.length) return { issues, tenant, autoPreflight: false, ...parsed };
  return {
    issues,
    tenant,
    autoPreflight: b['autoPreflight'] !== false,
    ...parsed,
    spec: {
      name: name as string,
      sourceType: sourceType as string,
      configJson: JSON.stringify(configNormalized),
      contractYaml: contract as string,
      environment: environment as string,
      owner: typeof b['owner'] === 'string' ? b['owner'] : principal.subject,
      labels: labels as Record<string, string>,
    },
  };
}
