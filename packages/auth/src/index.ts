// Who is calling and what they may do, for every front door (the projector's API and /mcp, the
// CLI's dev tokens, \`npm start\`'s demo token), so none of them imports another to get it.
import { createPublicKey, createSecretKey, webcrypto, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { PreflightError } from '@preflight/core';

export const ROLES = ['tenant_data_engineer', 'platform_admin', 'security_admin', 'observability_engineer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  subject: string;
  roles: Role[];
  tenant: string;
}

export type AuthConfig =
  | { mode: 'hs256'; secret: string; issuer?: string; audience?: string }
  | { mode: 'rs256'; publicKeyPem?: string; jwksUrl?: string; issuer?: string; audience?: string };

/** The local demo's signing secret; production sets PREFLIGHT_JWT_SECRET or a JWKS URL. */
export const DEV_JWT_SECRET = 'preflight-local-dev-secret-not-for-production';

/**
 * The auth settings among a process's variables. The caller passes them (a service reads its
 * environment once, at start): this package never reads the process environment itself.
 */
export function authConfigFromEnv(env: Readonly<Record<string, string | undefined>>): AuthConfig {
  if (env['PREFLIGHT_JWKS_URL'] || env['PREFLIGHT_JWT_PUBLIC_KEY']) {
    return { mode: 'rs256', ...(env['PREFLIGHT_JWKS_URL'] ? { jwksUrl: env['PREFLIGHT_JWKS_URL'] } : {}), ...(env['PREFLIGHT_JWT_PUBLIC_KEY'] ? { publicKeyPem: env['PREFLIGHT_JWT_PUBLIC_KEY'] } : {}) };
  }
  return { mode: 'hs256', secret: env['PREFLIGHT_JWT_SECRET'] ?? DEV_JWT_SECRET };
}

/** Who may do what. Platform admins and observability engineers see every tenant. */
export const PERMISSIONS = {
  read: ['tenant_data_engineer', 'platform_admin', 'security_admin', 'observability_engineer'],
  register: ['tenant_data_engineer', 'platform_admin'],
  preflight: ['tenant_data_engineer', 'platform_admin'],
  approve: ['security_admin'],
  operate: ['platform_admin'],
  observe: ['platform_admin', 'observability_engineer'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function allTenants(p: Principal): boolean {
  return p.roles.includes('platform_admin') || p.roles.includes('observability_engineer');
}

export function can(p: Principal, perm: Permission): boolean {
  return p.roles.some((r) => (PERMISSIONS[perm] as readonly Role[]).includes(r));
}

export function mayAccessTenant(p: Principal, tenant: string): boolean {
  return allTenants(p) || p.tenant === tenant;
}

/** How many verified tokens are remembered, and for how long at most (never past a token's `exp`). */
export const VERIFIED_TOKENS = { max: 1024, ttlMs: 60_000 } as const;

export class Authenticator {
  private readonly key: KeyObject | JWTVerifyGetKey | Promise<webcrypto.CryptoKey>;
  private readonly alg: 'HS256' | 'RS256';
  /**
   * Tokens verified lately, oldest first. A client sends the same token with every request, and
   * its signature check was 6% of the API's CPU per POST (profile, issue 14). The same string
   * under the same key verifies the same way, so only time can change the answer: an entry lives
   * until the token's `exp` and at most `ttlMs` (no longer than jose's own JWKS cache keeps a
   * rotated-out key). Refusals are not remembered.
   */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly config: AuthConfig) {
    if (config.mode === 'hs256') {
      // A CryptoKey made once: given a secret KeyObject, jose exports and re-imports it on every
      // verification (a tenth of a POST's CPU in the API profile, docs/performance.md).
      const key = webcrypto.subtle.importKey('raw', Buffer.from(config.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      // A secret it refuses fails each verification (401), as jose did, not the process.
      key.catch(() => undefined);
      this.key = key;
      this.alg = 'HS256';
    } else if (config.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(config.jwksUrl));
      this.alg = 'RS256';
    } else if (config.publicKeyPem) {
      this.key = createPublicKey(config.publicKeyPem);
      this.alg = 'RS256';
    } else throw new PreflightError('CONFIG', 'RS256 auth needs PREFLIGHT_JWKS_URL or PREFLIGHT_JWT_PUBLIC_KEY', { retriable: false });
  }

  /** The token issuer this platform trusts, when configured: its OAuth authorization server. */
  get issuer(): string | undefined {
    return this.config.issuer;
  }

  async verify(header: string | undefined): Promise<Principal> {
    if (!header) throw new PreflightError('UNAUTHORIZED', 'missing bearer token: send Authorization: Bearer <JWT>', { retriable: false });
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new PreflightError('UNAUTHORIZED', 'the Authorization header must be "Bearer <JWT>"', { retriable: false });
    const token = m[1]!;
    const now = Date.now();
    const hit = this.verified.get(token);
    if (hit) {
      this.verified.delete(token);
      if (hit.until > now) {
        this.verified.set(token, hit); // most recently used last
        return { ...hit.principal, roles: [...hit.principal.roles] };
      }
    }
    let payload: JWTPayload;
    try {
      const opts = { algorithms: [this.alg], ...(this.config.issuer ? { issuer: this.config.issuer } : {}), ...(this.config.audience ? { audience: this.config.audience } : {}) };
      const key = this.key instanceof Promise ? await this.key : this.key;
      payload = typeof key === 'function' ? (await jwtVerify(token, key, opts)).payload : (await jwtVerify(token, key, opts)).payload;
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why = code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'the token signature is not valid' : `the token is not valid (${code ?? 'malformed'})`;
      throw new PreflightError('UNAUTHORIZED', why, { retriable: false });
    }
    const roles = (Array.isArray(payload['roles']) ? payload['roles'] : []).filter((r): r is Role => (ROLES as readonly unknown[]).includes(r));
    const tenant = typeof payload['tenant'] === 'string' ? payload['tenant'] : '';
    if (roles.length === 0) throw new PreflightError('FORBIDDEN', `the token carries none of the roles ${ROLES.join(', ')}`, { retriable: false });
    if (!tenant && !roles.some((r) => r === 'platform_admin' || r === 'observability_engineer')) throw new PreflightError('FORBIDDEN', 'the token carries no tenant claim', { retriable: false });
    const principal: Principal = { subject: payload.sub ?? 'unknown', roles, tenant };
    const until = Math.min(typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity, now + VERIFIED_TOKENS.ttlMs);
    if (until > now) {
      this.verified.set(token, { principal, until });
      if (this.verified.size > VERIFIED_TOKENS.max) this.verified.delete(this.verified.keys().next().value!);
    }
    return { ...principal, roles: [...roles] };
  }
}

/** Signs an HS256 token: for the local demo, the CLI's `token` command and tests. */
export async function signDevToken(claims: { sub?: string; roles: Role[]; tenant: string }, secret = DEV_JWT_SECRET, expiresIn = '8h'): Promise<string> {
  return new SignJWT({ roles: claims.roles, tenant: claims.tenant })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? `dev-${claims.roles[0] ?? 'user'}`)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(createSecretKey(Buffer.from(secret)));
}
