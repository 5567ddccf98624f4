export { startReadinessService, DEFAULT_SETTINGS, type ReadinessServiceOptions } from './service.js';
export { decide, PRODUCER, SERVICE_NAME, type ReadinessSettings } from './decide.js';
export { evolve, type Attempt } from './attempt.js';
export { DEFAULT_APPROVAL_POLICY, matchRule, type ApprovalPolicy, type ApprovalRule } from './policy.js';
export { receiptOf, receiptYaml } from './receipt.js';
