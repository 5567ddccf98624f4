import { describe, expect, it } from 'vitest';
import {
  auditVerdict,
  CHECK_NAMES,
  checkFailed,
  CONNECTOR_STATES,
  CONSUMER_SERVICES,
  credentialAuditSummary,
  failingFindings,
  handshakeSummary,
  IN_PROGRESS_STATES,
  isFailingFinding,
  sampleEvents,
  schemaCheckSummary,
  serviceGroupId,
  serviceOfGroup,
} from './index.js';

const finding = (code: string, severity: string) => ({ code, severity, message: `${code} message`, object: null });

describe('shared verdict rules', () => {
  it('HIGH and CRITICAL findings fail the audit; INFO, WARNING and unknown levels do not', () => {
    expect(['INFO', 'WARNING', 'HIGH', 'CRITICAL', 'NOTICE'].map((s) => isFailingFinding({ severity: s }))).toEqual([false, false, true, true, false]);
    expect(auditVerdict([finding('A', 'INFO'), finding('B', 'WARNING')])).toBe('PASS');
    expect(auditVerdict([finding('A', 'INFO'), finding('B', 'HIGH')])).toBe('FAIL');
    expect(auditVerdict([])).toBe('PASS');
    expect(failingFindings([finding('A', 'CRITICAL'), finding('B', 'INFO'), finding('C', 'HIGH')]).map((f) => f.code)).toEqual(['A', 'C']);
  });

  it('a check fails the attempt on FAIL or ERROR only', () => {
    expect(['PASS', 'FAIL', 'ERROR', undefined].map(checkFailed)).toEqual([false, true, true, false]);
    expect(CHECK_NAMES).toEqual(['handshake', 'schema_check', 'credential_audit']);
  });

  it('summarises each check in one line, errors as code: message', () => {
    const s = sampleEvents();
    const h = { ...s['connector.handshake'], status: 'COMPLETED' as const, serverVersion: 'PostgreSQL 16.4', tls: { enabled: true, protocol: 'TLSv1.3', cipher: null }, latencyMs: 1.234, error: null };
    expect(handshakeSummary(h)).toBe('PostgreSQL 16.4 over TLSv1.3, 1.2 ms round trip');
    expect(handshakeSummary({ ...h, tls: null, serverVersion: null, latencyMs: null })).toBe('source, ? ms round trip');
    expect(handshakeSummary({ ...h, status: 'FAILED', error: { code: 'AUTH', message: 'password authentication failed', retriable: false } })).toBe('AUTH: password authentication failed');

    const sc = s['connector.schema.checked'];
    const diff = [{ ...sc.diff[0]!, severity: 'ERROR' }, { ...sc.diff[0]!, severity: 'WARNING' }];
    expect(schemaCheckSummary({ diff, checkpoint: null, severity: null, error: null })).toBe('1 contract difference(s); checkpoint not run');
    expect(schemaCheckSummary({ diff: [], checkpoint: { ...sc.checkpoint!, successfulExpectations: 3, evaluatedExpectations: 4 }, severity: 'V2', error: null })).toBe('0 contract difference(s); checkpoint 3/4 expectations met; severity V2');
    expect(schemaCheckSummary({ diff, checkpoint: null, severity: null, error: { code: 'SOURCE', message: 'gone', retriable: true } })).toBe('SOURCE: gone');

    expect(credentialAuditSummary({ findings: [finding('SUPERUSER', 'CRITICAL'), finding('ROTATION_AGE', 'INFO'), finding('CREATE_DB', 'HIGH')], principal: 'reader', error: null })).toBe('SUPERUSER, CREATE_DB');
    expect(credentialAuditSummary({ findings: [finding('ROTATION_AGE', 'INFO')], principal: 'reader', error: null })).toBe('least privilege as reader');
    expect(credentialAuditSummary({ findings: [], principal: null, error: null })).toBe('least privilege as n/a');
  });

  it('states in preflight order; the ones under way are those before an outcome', () => {
    expect(CONNECTOR_STATES).toEqual(['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL', 'READY', 'FAILED', 'RETIRED']);
    expect(IN_PROGRESS_STATES).toEqual(['REGISTERED', 'HANDSHAKING', 'VALIDATING', 'AWAITING_APPROVAL']);
  });

  it('names a service consumer group and reads the service back from it', () => {
    expect(serviceGroupId('t1.', 'readiness')).toBe('t1.preflight.readiness');
    expect(serviceGroupId('', 'projector', 'b')).toBe('preflight.projector.b');
    for (const svc of CONSUMER_SERVICES) expect(serviceOfGroup('t1.', serviceGroupId('t1.', svc))).toBe(svc);
    expect(serviceOfGroup('t1.', serviceGroupId('t1.', 'projector', 'b'))).toBe('projector.b');
    expect(serviceOfGroup('t1.', 'someone-elses-group')).toBe('someone-elses-group');
    expect(serviceOfGroup('t1.', 't2.preflight.readiness')).toBe('t2.preflight.readiness');
  });
});
