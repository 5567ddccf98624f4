import type { AccessFacts } from '@preflight/connectors';
import { auditVerdict, type Finding } from '@preflight/events';

export const SERVICE_NAME = 'credential-auditor';
export const SERVICE_VERSION = '0.1.0';
export const PRODUCER = `${SERVICE_NAME}@${SERVICE_VERSION}`;

/** What the audit observed, gathered through the connector facade and the secrets provider. */
export interface AuditFacts {
  sourceType: string;
  /** The configured principal (config.user / auth.username), if the source has one. */
  expectedPrincipal: string | null;
  /** `secretRef` as configured, or null for sources without a credential (local files). */
  secretRef: string | null;
  /** `outOfScope`: the ref points outside the tenant's secrets namespace (refused before any read). */
  secret: { resolved: true; scheme: string; ageDays: number | null } | { resolved: false; reason: string; outOfScope?: boolean } | null;
  /** What the connector facade observed of the credential's access. */
  access: AccessFacts | null;
  /** Datasets the contract needs to read. */
  contractDatasets: string[];
  /**
   * Where the contract's unqualified datasets live (PostgreSQL schema, MySQL database: the config,
   * else the contract's server), so a fix names the object exactly.
   */
  namespace?: string | null;
}

export interface AuditPolicy {
  maxRotationAgeDays: number;
  /** Secret stores the platform trusts; an inline value never gets here (config parsing rejects it). */
  allowedSecretSchemes: string[];
  requireTlsForRemoteHosts: boolean;
  /** Token scopes that grant more than reading. */
  writeScopePattern: RegExp;
}

export const DEFAULT_POLICY: AuditPolicy = {
  maxRotationAgeDays: 90,
  allowedSecretSchemes: ['env', 'file', 'vault'],
  requireTlsForRemoteHosts: true,
  writeScopePattern: /(^|[:.\s])(write|admin|delete|manage)(\b|$)|:\*$|^\*$/i,
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host === '' || host.startsWith('/');
}

/** Matches `public.orders` to `orders` and `erp.orders` to `orders`: contracts name tables unqualified. */
function covers(list: string[], dataset: string): boolean {
  const want = dataset.toLowerCase();
  return list.some((x) => {
    const have = x.toLowerCase();
    return have === want || have.endsWith(`.${want}`) || want.endsWith(`.${have}`);
  });
}

/** An identifier as the source's SQL needs it written: quoted only when it has to be. */
function ident(sourceType: string, name: string): string {
  if (sourceType === 'mysql') return /^[A-Za-z0-9_$]+$/.test(name) ? name : `\`${name.replaceAll('`', '``')}\``;
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table` from a contract dataset (unqualified: in the connector's namespace) or a qualified catalog name. */
function objectName(sourceType: string, dataset: string, namespace: string | null | undefined): string {
  const parts = dataset.includes('.') ? dataset.split('.') : namespace ? [namespace, dataset] : [dataset];
  return parts.map((p) => ident(sourceType, p)).join('.');
}

/** The account a GRANT names: MySQL's `'user'` is `'user'@'%'`. */
const grantee = (sourceType: string, principal: string): string => (sourceType === 'mysql' ? `'${principal.replaceAll("'", "''")}'` : ident(sourceType, principal));

/** SQL sources say what fixes a missing or excess privilege as a statement an admin can run. */
const SQL_SOURCES = new Set(['postgres', 'mysql']);

/** Pure: every finding about one credential, and whether it passes. */
export function judgeCredential(facts: AuditFacts, policy: AuditPolicy = DEFAULT_POLICY): { status: 'PASS' | 'FAIL'; findings: Finding[] } {
  const findings: Finding[] = [];
  const add = (code: string, severity: Finding['severity'], message: string, object: string | null = null): void => void findings.push({ code, severity, message, object });

  if (facts.secretRef === null) {
    if (facts.sourceType !== 'files') add('NO_CREDENTIAL', 'HIGH', `a ${facts.sourceType} source must authenticate with a secretRef`);
    else add('NO_CREDENTIAL', 'INFO', 'local file source: no credential involved');
  } else {
    const scheme = facts.secretRef.split(':')[0] ?? '';
    if (!policy.allowedSecretSchemes.includes(scheme)) add('SECRET_STORE', 'CRITICAL', `secretRef scheme "${scheme}" is not an approved secret store (${policy.allowedSecretSchemes.join(', ')})`);
    if (facts.secret && !facts.secret.resolved && facts.secret.outOfScope) add('SECRET_OUT_OF_SCOPE', 'CRITICAL', `secretRef ${facts.secretRef} is outside the tenant's secrets namespace and was not resolved: ${facts.secret.reason}`);
    else if (facts.secret && !facts.secret.resolved) add('SECRET_UNRESOLVED', 'CRITICAL', `secretRef ${facts.secretRef} could not be resolved: ${facts.secret.reason}`);
    if (facts.secret?.resolved) {
      const age = facts.secret.ageDays;
      if (age === null) add('ROTATION_UNKNOWN', 'WARNING', `rotation age of ${facts.secret.scheme}: secrets is not observable; prefer a mounted file or a vault with metadata`);
      else if (age > policy.maxRotationAgeDays) add('ROTATION_AGE', 'HIGH', `secret last rotated ${age.toFixed(1)} days ago; policy allows ${policy.maxRotationAgeDays}`);
      else add('ROTATION_AGE', 'INFO', `secret rotated ${age.toFixed(1)} days ago (policy ${policy.maxRotationAgeDays})`);
    }
  }

  const a = facts.access;
  if (a) {
    if (facts.expectedPrincipal && a.principal && a.principal.toLowerCase() !== facts.expectedPrincipal.toLowerCase()) {
      add('PRINCIPAL_MISMATCH', 'HIGH', `authenticated as "${a.principal}", expected "${facts.expectedPrincipal}"`, `principal:${a.principal}`);
    }
    if (a.superuser) add('SUPERUSER', 'CRITICAL', `principal "${a.principal}" is a superuser; a preflight credential must be read-only`, `principal:${a.principal}`);
    if (a.canCreateRole) add('CREATE_ROLE', 'HIGH', `principal "${a.principal}" can create roles`, `principal:${a.principal}`);
    if (a.canCreateDb) add('CREATE_DB', 'HIGH', `principal "${a.principal}" can create databases`, `principal:${a.principal}`);
    const sql = SQL_SOURCES.has(facts.sourceType);
    if (a.writable.length > 0) {
      // The fix: take back what goes beyond reading, object by object, naming the privileges held.
      const revokes = a.writable.slice(0, 5).map((o) => {
        const privs = [...new Set(a.grants.filter((g) => g.object === o && g.privilege !== 'SELECT').map((g) => g.privilege))];
        return `REVOKE ${privs.length ? privs.join(', ') : 'ALL PRIVILEGES'} ON ${objectName(facts.sourceType, o, null)} FROM ${grantee(facts.sourceType, a.principal)}`;
      });
      add('WRITE_PRIVILEGE', 'HIGH', `principal "${a.principal}" can write to ${a.writable.length} object(s): ${a.writable.slice(0, 5).join(', ')}${a.writable.length > 5 ? ', …' : ''}${sql ? `; fix: ${revokes.join('; ')}` : ''}`, a.writable[0] ?? null);
    }
    for (const ds of facts.contractDatasets) {
      if (covers(a.readable, ds)) continue;
      // A grant the contract needs and the principal lacks: the same PERMISSION finding the schema check makes, with the statement that fixes it.
      const object = sql ? objectName(facts.sourceType, ds, facts.namespace) : ds;
      const fix = sql ? `: GRANT SELECT ON ${object} TO ${grantee(facts.sourceType, a.principal)}` : '';
      add('PERMISSION', 'HIGH', `principal "${a.principal}" lacks SELECT (read) on contract dataset "${ds}"${fix}`, object);
    }
    const writeScopes = (a.tokenScopes ?? []).filter((s) => policy.writeScopePattern.test(s));
    if (writeScopes.length > 0) add('TOKEN_SCOPE', 'HIGH', `token carries scopes beyond read: ${writeScopes.join(', ')}`, 'token');
    if (!a.tls && policy.requireTlsForRemoteHosts && !isLoopback(a.host)) add('TLS_REQUIRED', 'HIGH', `connection to non-loopback host ${a.host} is not encrypted`, `host:${a.host}`);
    else if (!a.tls && facts.sourceType !== 'files') add('TLS_REQUIRED', 'INFO', `no TLS to loopback host ${a.host}; allowed by policy`, `host:${a.host}`);
  }

  return { status: auditVerdict(findings), findings };
}
