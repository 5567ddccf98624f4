import type { Logger } from '@preflight/core';
import { columnName, datasetName, isPii, parseContract, type ContractServer, type DataContract } from './contract.js';
import { applyChosenServer, applyServer, type ServerResolution } from './servers.js';

/** One column of a dataset, as the contract declares it. */
export interface ContractFieldFacts {
  name: string;
  /** physicalType where the contract declares one, else logicalType. */
  type: string | null;
  pii: boolean;
}

export interface ContractDatasetFacts {
  name: string;
  /** Where the dataset lives once the server is applied: the PostgreSQL schema, the MySQL database. */
  namespace: string | null;
  fields: ContractFieldFacts[];
}

/** The contract's server chosen for this connector: where data lives, never how to log in. */
export interface ContractServerFacts {
  name: string;
  type: string;
  environment: string | null;
  host: string | null;
  port: number | null;
  database: string | null;
  schema: string | null;
}

/**
 * What the stages after registration need of a contract, derived once from the parsed and
 * validated contract and the connector's config, and carried on the events, so no later stage
 * parses the YAML again (only the schema-validator, which compiles the rules).
 */
export interface ContractFacts {
  id: string;
  version: string;
  datasets: ContractDatasetFacts[];
  /** `dataset.column` of every PII/regulated property. */
  piiFields: string[];
  server: ContractServerFacts | null;
}

/** The part of a connector spec the facts depend on. */
export interface ContractSource {
  sourceType: string;
  environment: string;
  configJson: string;
  contractYaml: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The namespace a SQL source reads its datasets in, from the config with the server applied. */
export function namespaceOf(sourceType: string, config: Record<string, unknown>): string | null {
  if (sourceType === 'postgres') return text(config['schema']) ?? 'public';
  if (sourceType === 'mysql') return text(config['database']);
  return null;
}

/** Only where the data lives is copied: a server entry is free-form YAML, and nothing else of it may travel. */
function serverFacts(s: ContractServer | undefined): ContractServerFacts | null {
  if (!s) return null;
  return {
    name: s.server,
    type: String(s.type),
    environment: text(s.environment),
    host: text(s.host),
    port: Number.isInteger(s.port) ? s.port! : null,
    database: text(s.database),
    schema: text(s.schema),
  };
}

/** Pure: the facts of a parsed, validated contract for one connector (its type, environment and raw config). */
export function deriveContractFacts(contract: DataContract, connector: { sourceType: string; environment?: string | undefined; config: Record<string, unknown> }): ContractFacts {
  const resolved = applyServer(contract, connector.config, { sourceType: connector.sourceType, environment: connector.environment });
  const namespace = namespaceOf(connector.sourceType, resolved.config);
  const datasets = contract.schema.map((o) => ({
    name: datasetName(o),
    namespace,
    fields: o.properties.map((p) => ({ name: columnName(p), type: p.physicalType ?? p.logicalType ?? null, pii: isPii(p) })),
  }));
  return {
    id: contract.id,
    version: contract.version,
    datasets,
    piiFields: datasets.flatMap((d) => d.fields.filter((f) => f.pii).map((f) => `${d.name}.${f.name}`)),
    server: serverFacts(resolved.server),
  };
}

function configOf(configJson: string): Record<string, unknown> {
  try {
    const raw: unknown = JSON.parse(configJson);
    return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Parses and validates the spec's contract and derives its facts; null without a contract. Throws what `parseContract` throws. */
export function contractFactsOf(spec: ContractSource): ContractFacts | null {
  if (!spec.contractYaml) return null;
  return deriveContractFacts(parseContract(spec.contractYaml), { sourceType: spec.sourceType, environment: spec.environment, config: configOf(spec.configJson) });
}

let fallbacks = 0;

/** How many times this process parsed a contract because an event came without facts (written before they were carried). */
export function contractFactsFallbacks(): number {
  return fallbacks;
}

/**
 * The facts an event carries; for an event written before they were carried, parsed from its
 * spec once, counted, and said at debug (it is expected while old records are read, not a fault).
 */
export function carriedContractFacts(carried: ContractFacts | null | undefined, spec: ContractSource, log?: Pick<Logger, 'debug'>): ContractFacts | null {
  if (carried) return carried;
  if (!spec.contractYaml) return null;
  fallbacks++;
  log?.debug({ contractFactsFallbacks: fallbacks }, 'event carries no contractFacts: parsing the contract from its spec');
  return contractFactsOf(spec);
}

/** The config with the facts' server applied, as `applyServer` resolves it from the contract. */
export function applyFactsServer(facts: ContractFacts | null, rawConfig: Record<string, unknown>, sourceType: string): ServerResolution {
  const s = facts?.server;
  const server: ContractServer | undefined = s
    ? { server: s.name, type: s.type, ...(s.environment ? { environment: s.environment } : {}), ...(s.host ? { host: s.host } : {}), ...(s.port !== null ? { port: s.port } : {}), ...(s.database ? { database: s.database } : {}), ...(s.schema ? { schema: s.schema } : {}) }
    : undefined;
  return applyChosenServer(server, rawConfig, sourceType);
}
