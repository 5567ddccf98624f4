import { describe, expect, it } from 'vitest';
import { judgeCredential, type AuditFacts } from './judge.js';

const leastPrivilege: AuditFacts = {
  sourceType: 'postgres',
  expectedPrincipal: 'reader',
  secretRef: 'file:/run/secrets/pg',
  secret: { resolved: true, scheme: 'file', ageDays: 3 },
  access: { principal: 'reader', superuser: false, canCreateRole: false, canCreateDb: false, readable: ['public.customers', 'public.orders'], writable: [], grants: [], tls: false, host: '127.0.0.1' },
  contractDatasets: ['customers', 'orders'],
};

const codes = (f: AuditFacts): string[] => judgeCredential(f).findings.filter((x) => x.severity === 'HIGH' || x.severity === 'CRITICAL').map((x) => x.code);

describe('judgeCredential', () => {
  it('passes a least-privilege, recently rotated credential from the store', () => {
    const r = judgeCredential(leastPrivilege);
    expect(r.status).toBe('PASS');
    expect(codes(leastPrivilege)).toEqual([]);
  });

  it('fails an over-privileged credential: superuser, role creation, write grants', () => {
    const f: AuditFacts = { ...leastPrivilege, access: { ...leastPrivilege.access!, superuser: true, canCreateRole: true, writable: ['public.orders'] } };
    expect(judgeCredential(f).status).toBe('FAIL');
    expect(codes(f)).toEqual(['SUPERUSER', 'CREATE_ROLE', 'WRITE_PRIVILEGE']);
  });

  it('a contract table the credential cannot read is a PERMISSION finding with the GRANT that fixes it', () => {
    const f: AuditFacts = { ...leastPrivilege, contractDatasets: ['customers', 'orders', 'Payroll'], namespace: 'erp', access: { ...leastPrivilege.access!, readable: ['erp.customers'] } };
    const r = judgeCredential(f);
    expect(r.status).toBe('FAIL');
    expect(r.findings.filter((x) => x.code === 'PERMISSION')).toEqual([
      { code: 'PERMISSION', severity: 'HIGH', object: 'erp.orders', message: 'principal "reader" lacks SELECT (read) on contract dataset "orders": GRANT SELECT ON erp.orders TO reader' },
      { code: 'PERMISSION', severity: 'HIGH', object: 'erp."Payroll"', message: 'principal "reader" lacks SELECT (read) on contract dataset "Payroll": GRANT SELECT ON erp."Payroll" TO reader' },
    ]);
    // MySQL: the database is the namespace, the account 'user' (any host).
    const my = judgeCredential({ ...f, sourceType: 'mysql', namespace: 'shop', contractDatasets: ['orders'], access: { ...f.access!, readable: [] } });
    expect(my.findings.find((x) => x.code === 'PERMISSION')!.message).toMatch(/: GRANT SELECT ON shop\.orders TO 'reader'$/);
    // A source without SQL grants names the dataset, with no statement.
    const rest = judgeCredential({ ...f, sourceType: 'rest', contractDatasets: ['orders'], access: { ...f.access!, readable: [] } });
    expect(rest.findings.find((x) => x.code === 'PERMISSION')).toMatchObject({ object: 'orders', message: 'principal "reader" lacks SELECT (read) on contract dataset "orders"' });
  });

  it('write grants beyond read come with the REVOKE that takes them back', () => {
    const f: AuditFacts = { ...leastPrivilege, access: { ...leastPrivilege.access!, writable: ['public.orders'], grants: [{ object: 'public.orders', privilege: 'SELECT' }, { object: 'public.orders', privilege: 'INSERT' }, { object: 'public.orders', privilege: 'DELETE' }] } };
    expect(judgeCredential(f).findings.find((x) => x.code === 'WRITE_PRIVILEGE')!.message).toBe('principal "reader" can write to 1 object(s): public.orders; fix: REVOKE INSERT, DELETE ON public.orders FROM reader');
  });

  it('enforces rotation age and flags an unknown age as a warning only', () => {
    expect(codes({ ...leastPrivilege, secret: { resolved: true, scheme: 'file', ageDays: 400 } })).toEqual(['ROTATION_AGE']);
    const env = judgeCredential({ ...leastPrivilege, secretRef: 'env:PG_PW', secret: { resolved: true, scheme: 'env', ageDays: null } });
    expect(env.status).toBe('PASS');
    expect(env.findings.map((x) => x.code)).toContain('ROTATION_UNKNOWN');
  });

  it('requires TLS for non-loopback hosts only', () => {
    expect(codes({ ...leastPrivilege, access: { ...leastPrivilege.access!, host: 'db.internal', tls: false } })).toEqual(['TLS_REQUIRED']);
    expect(codes({ ...leastPrivilege, access: { ...leastPrivilege.access!, host: 'db.internal', tls: true } })).toEqual([]);
  });

  it('rejects unresolvable secrets, foreign stores and a wrong principal', () => {
    expect(codes({ ...leastPrivilege, secret: { resolved: false, reason: 'file not found' } })).toEqual(['SECRET_UNRESOLVED']);
    expect(codes({ ...leastPrivilege, secretRef: 'plain:hunter2' })).toContain('SECRET_STORE');
    expect(codes({ ...leastPrivilege, access: { ...leastPrivilege.access!, principal: 'postgres' } })).toEqual(['PRINCIPAL_MISMATCH']);
  });

  it("reports a ref outside the tenant's secrets namespace as CRITICAL, distinct from an unresolvable one", () => {
    const r = judgeCredential({ ...leastPrivilege, secretRef: 'file:/etc/hostname', secret: { resolved: false, reason: "outside the tenant's secrets root", outOfScope: true } });
    expect(r.status).toBe('FAIL');
    expect(r.findings.find((x) => x.code === 'SECRET_OUT_OF_SCOPE')).toMatchObject({ severity: 'CRITICAL', message: expect.stringContaining('file:/etc/hostname') });
    expect(codes({ ...leastPrivilege, secretRef: 'file:/etc/hostname', secret: { resolved: false, reason: 'x', outOfScope: true } })).toEqual(['SECRET_OUT_OF_SCOPE']);
  });

  it('flags token scopes that allow writing', () => {
    const rest: AuditFacts = { ...leastPrivilege, sourceType: 'rest', access: { ...leastPrivilege.access!, tokenScopes: ['orders:read', 'orders:write'] } };
    expect(codes(rest)).toEqual(['TOKEN_SCOPE']);
    expect(codes({ ...rest, access: { ...rest.access!, tokenScopes: ['orders:read', 'customers:read'] } })).toEqual([]);
  });

  it('needs no credential for local files', () => {
    const files: AuditFacts = { ...leastPrivilege, sourceType: 'files', expectedPrincipal: null, secretRef: null, secret: null };
    expect(judgeCredential(files).status).toBe('PASS');
  });
});
