import { isPreflightError, type FieldIssue } from '@preflight/core';
import { FIELD_MESSAGE, fieldRank, getConnector, listConnectors, schemaValidator, sourceTypes, type ConnectorManifest } from '@preflight/connectors';
import { deriveContractFacts, parseContract, type ContractFacts, type DataContract } from '@preflight/contracts';
import type { ConnectorSpec } from '@preflight/events';
import { allTenants, type Principal } from '@preflight/auth';

const ENVIRONMENTS = ['production', 'staging', 'development'];
/** Connector names and tenant ids: what fits in a topic key and a URL path segment. */
const ID = '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$';

/**
 * The registration body, as `/openapi.json` publishes it. `config` is one of the connectors' own
 * config schemas (the one `sourceType` names), each coming from that connector's definition.
 */
export function registrationSchema(): Record<string, unknown> {
  return {
    type: 'object',
    required: ['name', 'sourceType', 'config', 'contract'],
    properties: {
      name: { type: 'string', pattern: ID, description: 'letters, digits, . _ - (at most 63); the connector id is <tenant>.<name>', [FIELD_MESSAGE]: 'must be letters, digits, . _ - (at most 63, starting with a letter or digit)' },
      sourceType: { type: 'string', enum: sourceTypes() },
      config: { type: 'object', description: "the source's config, per sourceType; secrets only as secretRef", oneOf: listConnectors().map((m) => ({ title: m.manifest.type, ...m.manifest.contract.configSchema })) },
      contract: { type: 'string', minLength: 1, description: 'the ODCS v3 data contract (YAML) the source must meet' },
      environment: { type: 'string', enum: ENVIRONMENTS, default: 'development' },
      labels: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
      owner: { type: 'string', description: 'the owning team; default the caller' },
      tenant: { type: 'string', pattern: ID, description: "platform admins may register for any tenant; default the token's", [FIELD_MESSAGE]: 'must be a tenant id' },
      autoPreflight: { type: 'boolean', default: true, description: 'start a preflight as soon as the connector is registered' },
    },
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

let compiled: { shape: (value: unknown) => FieldIssue[]; rank: (field: string) => number } | undefined;
/** The body's own fields, checked by the schema above; `config` by its connector's definition. */
function checks(): NonNullable<typeof compiled> {
  if (!compiled) {
    const schema = registrationSchema();
    const properties = { ...(schema['properties'] as Record<string, unknown>), config: { type: 'object' } };
    compiled = { shape: schemaValidator({ ...schema, properties }), rank: fieldRank(schema) };
  }
  return compiled;
}

// Bounded in entries and in text held: contracts are up to a MiB each (the body limit).
const CONTRACT_CACHE_MAX = 256;
const CONTRACT_CACHE_MAX_CHARS = 4 * 1024 * 1024;
/** The parsed contract is kept with its issues: its facts are derived from it for every registration. */
const contractChecks = new Map<string, { issues: readonly FieldIssue[]; contract?: DataContract }>();
let contractCacheChars = 0;

/**
 * The contract parsed, or its issues named under `contract.`. Parsing and checking the YAML was most of a
 * registration's CPU (profile in docs/performance.md), and the answer depends on the text alone:
 * one team registers many connectors against the same contract, and a client retrying a
 * registration sends it again. So it is remembered per exact text, the most recently used kept.
 */
function checkContract(text: string): { issues: FieldIssue[]; contract?: DataContract } {
  let found = contractChecks.get(text);
  if (found) {
    // Most recently used last, so the oldest is the one dropped.
    contractChecks.delete(text);
    contractChecks.set(text, found);
  } else {
    try {
      found = { issues: [], contract: parseContract(text) };
    } catch (e) {
      found = { issues: isPreflightError(e) ? e.issues.map((i) => ({ ...i, field: `contract.${i.field}` })) : [] };
    }
    if (text.length <= CONTRACT_CACHE_MAX_CHARS / 8) {
      contractChecks.set(text, found);
      contractCacheChars += text.length;
      for (const oldest of contractChecks.keys()) {
        if (contractChecks.size <= CONTRACT_CACHE_MAX && contractCacheChars <= CONTRACT_CACHE_MAX_CHARS) break;
        contractChecks.delete(oldest);
        contractCacheChars -= oldest.length;
      }
    }
  }
  return { issues: found.issues.map((i) => ({ ...i })), ...(found.contract ? { contract: found.contract } : {}) };
}

/** What the contract check cache holds now (its bounds are tested). */
export function contractCheckCacheUsage(): { entries: number; chars: number } {
  return { entries: contractChecks.size, chars: contractCacheChars };
}

/**
 * Validates a registration the way Kafka Connect's validate does: every problem at once, in the
 * order of the body's fields. The schema says what it can; code adds what it cannot (the
 * contract's own rules, who may register in which tenant).
 */
export function validateRegistration(
  body: unknown,
  principal: Principal,
): { issues: FieldIssue[]; spec?: ConnectorSpec; contractFacts?: ContractFacts; tenant: string; autoPreflight: boolean; config?: { manifest: ConnectorManifest; value: unknown } } {
  const { shape, rank } = checks();
  const b: Record<string, unknown> = isObj(body) ? structuredClone(body) : {};
  const issues: FieldIssue[] = isObj(body) ? [] : [{ field: 'body', message: 'must be a JSON object' }];
  issues.push(...shape(b));
  const bad = (field: string): boolean => issues.some((i) => i.field === field);

  let config: { manifest: ConnectorManifest; value: unknown } | undefined;
  if (typeof b['sourceType'] === 'string' && !bad('sourceType') && isObj(b['config'])) {
    const module = getConnector(b['sourceType']);
    try {
      config = { manifest: module.manifest, value: module.parseConfig({ ...b['config'], type: module.manifest.type }) };
    } catch (e) {
      issues.push(...(isPreflightError(e) && e.issues.length ? e.issues : [{ field: 'config', message: (e as Error).message }]));
    }
  }
  let contract: DataContract | undefined;
  if (typeof b['contract'] === 'string' && !bad('contract')) {
    const checked = checkContract(b['contract']);
    issues.push(...checked.issues);
    contract = checked.contract;
  }
  let tenant = principal.tenant;
  if (typeof b['tenant'] === 'string' && !bad('tenant')) {
    if (b['tenant'] !== principal.tenant && !allTenants(principal)) issues.push({ field: 'tenant', message: 'you may register connectors only in your own tenant', value: b['tenant'] });
    else tenant = b['tenant'];
  }
  if (!tenant && !bad('tenant')) issues.push({ field: 'tenant', message: 'is required for a token without a tenant claim' });

  const ordered = issues.map((i, n) => ({ i, r: i.field === 'body' ? -1 : rank(i.field), n })).sort((x, y) => x.r - y.r || x.n - y.n).map((x) => x.i);
  if (ordered.length) return { issues: ordered, tenant, autoPreflight: false, ...(config ? { config } : {}) };
  const spec: ConnectorSpec = {
    name: b['name'] as string,
    sourceType: b['sourceType'] as string,
    configJson: JSON.stringify(config?.value),
    contractYaml: b['contract'] as string,
    environment: b['environment'] as string,
    owner: typeof b['owner'] === 'string' ? b['owner'] : principal.subject,
    labels: b['labels'] as Record<string, string>,
  };
  // The contract was parsed and validated just above: its facts go with the registration, so no
  // later stage parses it again. From the config as the spec carries it, as every stage reads it.
  const contractFacts = contract ? deriveContractFacts(contract, { sourceType: spec.sourceType, environment: spec.environment, config: (config?.value ?? {}) as Record<string, unknown> }) : undefined;
  return { issues: ordered, tenant, autoPreflight: b['autoPreflight'] !== false, ...(config ? { config } : {}), spec, ...(contractFacts ? { contractFacts } : {}) };
}
