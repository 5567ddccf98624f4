export { startCredentialAuditorService, type AuditorServiceOptions } from './service.js';
export { judgeCredential, DEFAULT_POLICY, PRODUCER, SERVICE_NAME, type AuditFacts, type AuditPolicy } from './judge.js';
export { auditorHandlers, gatherFacts } from './handler.js';
