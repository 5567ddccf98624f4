import { PreflightError } from '@preflight/core';
import { configValue } from './config-path.js';
import type { ConnectorModule } from './facade.js';
import { filesConnector } from './sources/files.js';
import { mysqlConnector } from './sources/mysql.js';
import { postgresConnector } from './sources/postgres.js';
import { restConnector } from './sources/rest.js';

const MODULES = new Map<string, ConnectorModule>([
  ['postgres', postgresConnector],
  ['mysql', mysqlConnector],
  ['mariadb', mysqlConnector],
  ['rest', restConnector],
  ['files', filesConnector],
]);

/** The only way services reach a source: by type, through the facade. */
export function getConnector(type: string): ConnectorModule {
  const m = MODULES.get(type);
  if (!m) throw new PreflightError('CONFIG', `type: unknown source type "${type}"; supported: postgres, mysql (mariadb), rest, files`, { retriable: false, issues: [{ field: 'type', message: 'unknown source type', value: type }] });
  return m;
}

/** Every `sourceType` a registration may name (aliases included). */
export function sourceTypes(): string[] {
  return [...MODULES.keys()];
}

export function listConnectors(): ConnectorModule[] {
  return [...new Set(MODULES.values())];
}

/** The manifest's audit field mapping applied to a config: `source.<path>` → value, redactions honoured. */
export function auditFields(module: ConnectorModule, config: unknown): Record<string, string> {
  const out: Record<string, string> = { 'connector.type': module.manifest.type, 'connector.version': module.manifest.version };
  for (const path of module.manifest.audit.fields) {
    if (module.manifest.audit.redacted.includes(path)) continue;
    const v = configValue(config, path);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[`source.${path}`] = String(v);
  }
  return out;
}
