export type {
  LogicalType,
  DiscoveredField,
  DiscoveredDataset,
  DiscoveryResult,
  HandshakeResult,
  AccessFacts,
  SampleResult,
  SecretResolution,
  OperationContext,
  OperationName,
  ConnectorManifest,
  ConnectorModule,
} from './facade.js';
export { getConnector, listConnectors, sourceTypes, auditFields } from './registry.js';
export { defineConfig, schemaValidator, fieldRank, SecretRef, Port, Text, OneOf, SECRET, FIELD_MESSAGE, type ConfigDefinition, type ConfigOf } from './config.js';
export { configValue } from './config-path.js';
export { runOperation } from './operation.js';
export { OperationSessions } from './sessions.js';
export { Scopes, TenantScope, isScopeRefusal, endpointOf, type SecretStore, type EndpointField } from './scope/tenant-scope.js';
export { scopePolicyFromEnv, withPlatformEndpoints, endpointsOf, envNamespace, checkTenantId, TENANT_ID, ADDRESS_CLASSES, type ScopePolicy, type PlatformEndpoint, type AddressClass } from './scope/policy.js';
export { checkEgress, classify, type CheckedAddress, type Lookup } from './scope/egress.js';
export { devScopes, scopesFromEnv, type DevScopesOptions } from './scope/factory.js';
export { validateManifest } from './manifest.js';
export { startErpApiFixture, startSilentPort, type ErpApiHandle, type ErpApiOptions } from './testing/erp-api.js';
export { parseCsv } from './sources/csv.js';
export { connectorServiceDeps } from './service-deps.js';
