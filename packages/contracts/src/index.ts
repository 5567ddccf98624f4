export {
  parseContract,
  contractDatasets,
  piiFields,
  isPii,
  datasetName,
  columnName,
  customProperty,
  LOGICAL_TYPES,
  type DataContract,
  type ContractObject,
  type ContractProperty,
  type QualityRule,
  type ContractServer,
  type Relationship,
} from './contract.js';
export { applyServer, applyChosenServer, pickServer, type ServerResolution } from './servers.js';
export {
  deriveContractFacts,
  contractFactsOf,
  carriedContractFacts,
  contractFactsFallbacks,
  applyFactsServer,
  type ContractFacts,
  type ContractDatasetFacts,
  type ContractFieldFacts,
  type ContractServerFacts,
  type ContractSource,
  namespaceOf,
} from './facts.js';
export { physicalTypeMatches, parsePhysicalType, type SqlDialect } from './physical.js';
export { diffSchema, type DiffEntry, type DiffKind, type SourceSchema } from './diff.js';
export { compileExpectations, readOnlyQueryProblem, severityOf, SUPPORTED_EXPECTATIONS, type ContractClause, type Expectation, type Threshold } from './expectations.js';
export { runCheckpoint, checkpointSeverity, blocking, DEFAULT_MAX_FAILED_ROW_SAMPLES, type Catalog, type CheckpointExecutor, type CheckpointOptions, type CheckpointResult, type ExpectationValidationResult, type ResultMeta } from './checkpoint.js';
export { slaSeconds, isoDurationSeconds, SLA_EXPECTATIONS } from './sla.js';
export { loadContractFile } from './load.js';
export { contractChangelog, type ContractChange, type ContractChangelog } from './changelog.js';
export { expectationDataset, expectationDatasetOf } from './ownership.js';
