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
} from './contract.js';
export { diffSchema, type DiffEntry, type DiffKind, type SourceSchema } from './diff.js';
export { compileExpectations, SUPPORTED_EXPECTATIONS, type Expectation, type Threshold } from './expectations.js';
export { runCheckpoint, checkpointSeverity, type CheckpointExecutor, type CheckpointResult, type ExpectationValidationResult } from './checkpoint.js';
export { loadContractFile } from './load.js';
export { contractChangelog, type ContractChange, type ContractChangelog } from './changelog.js';
