export type {
  LogicalType,
  DiscoveredField,
  DiscoveredDataset,
  DiscoveryResult,
  HandshakeResult,
  AccessFacts,
  SampleResult,
  SecretResolution,
  SecretProvider,
  OperationContext,
  OperationName,
  ConnectorManifest,
  ConnectorModule,
} from './facade.js';
export { getConnector, listConnectors, auditFields } from './registry.js';
export { runOperation } from './operation.js';
export { defaultSecretProvider, SchemeSecretProvider, type SchemeProvider } from './secrets.js';
export { validateManifest } from './manifest.js';
export { startErpApiFixture, startSilentPort, type ErpApiHandle, type ErpApiOptions } from './testing/erp-api.js';
export { parseCsv } from './sources/csv.js';
