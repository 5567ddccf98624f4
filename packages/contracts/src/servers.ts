import type { ContractServer, DataContract } from './contract.js';

/** ODCS server types a connector type can read. */
const SERVER_TYPES: Record<string, string[]> = {
  postgres: ['postgres', 'postgresql'],
  mysql: ['mysql', 'mariadb'],
  files: ['local', 'filesystem'],
  rest: ['api', 'https', 'http'],
};

/**
 * The contract's server for this connector: the one named in the config (`server`), else the
 * one of the connector's type for its environment, else the only one of its type.
 */
export function pickServer(contract: DataContract, want: { sourceType: string; environment?: string | undefined; name?: string | undefined }): ContractServer | undefined {
  const servers = contract.servers ?? [];
  if (want.name) return servers.find((s) => s.server === want.name);
  const types = SERVER_TYPES[want.sourceType] ?? [want.sourceType];
  const ofType = servers.filter((s) => types.includes(String(s.type).toLowerCase()));
  const envMatch = ofType.filter((s) => want.environment !== undefined && s.environment === want.environment);
  if (envMatch.length === 1) return envMatch[0];
  return ofType.length === 1 ? ofType[0] : undefined;
}

export interface ServerResolution {
  /** The connector config with the server's schema/database filled in where the config is silent. */
  config: Record<string, unknown>;
  server: ContractServer | undefined;
  /** Where the config overrides the contract's server: the config wins, and each is reported. */
  conflicts: Array<{ field: 'schema' | 'database'; config: string; server: string; serverName: string }>;
}

/**
 * Honours `servers[]`: a connector registered without `config.schema` reads the schema the
 * contract's server names; one that sets a different value keeps its own and the conflict is
 * reported, never silently resolved either way.
 */
export function applyServer(contract: DataContract, rawConfig: Record<string, unknown>, want: { sourceType: string; environment?: string | undefined }): ServerResolution {
  const name = typeof rawConfig['server'] === 'string' ? rawConfig['server'] : undefined;
  return applyChosenServer(pickServer(contract, { ...want, name }), rawConfig, want.sourceType);
}

/**
 * `applyServer` once the server is chosen: what a stage that reads the contract's facts (not the
 * contract) does with the server the facts name, so both resolve the config the same way.
 */
export function applyChosenServer(server: ContractServer | undefined, rawConfig: Record<string, unknown>, sourceType: string): ServerResolution {
  const want = { sourceType };
  const { server: _omit, ...config } = rawConfig;
  const conflicts: ServerResolution['conflicts'] = [];
  if (!server || (want.sourceType !== 'postgres' && want.sourceType !== 'mysql')) return { config, server, conflicts };
  for (const field of ['schema', 'database'] as const) {
    const fromServer = server[field];
    if (typeof fromServer !== 'string' || fromServer === '') continue;
    // MySQL has no schema inside a database: its ODCS schema is the database.
    if (want.sourceType === 'mysql' && field === 'schema') continue;
    const own = config[field];
    if (own === undefined || own === null || own === '') config[field] = fromServer;
    else if (typeof own === 'string' && own !== fromServer) conflicts.push({ field, config: own, server: fromServer, serverName: server.server });
  }
  return { config, server, conflicts };
}
