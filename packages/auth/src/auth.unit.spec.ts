import { describe, expect, it } from 'vitest';
import { authConfigFromEnv, Authenticator, DEV_JWT_SECRET, signDevToken } from './index.js';

describe('@preflight/auth', () => {
  it('is configured by its caller: the variables passed in decide the mode, nothing else', () => {
    expect(authConfigFromEnv({})).toEqual({ mode: 'hs256', secret: DEV_JWT_SECRET });
    expect(authConfigFromEnv({ PREFLIGHT_JWT_SECRET: 's3' })).toEqual({ mode: 'hs256', secret: 's3' });
    expect(authConfigFromEnv({ PREFLIGHT_JWKS_URL: 'https://idp.example/jwks' })).toEqual({ mode: 'rs256', jwksUrl: 'https://idp.example/jwks' });
  });

  it('a dev token signed with the configured secret verifies; with the dev default it does not', async () => {
    const auth = new Authenticator({ mode: 'hs256', secret: 'team-secret' });
    const token = await signDevToken({ roles: ['security_admin'], tenant: 'acme', sub: 'sam' }, 'team-secret');
    expect(await auth.verify(`Bearer ${token}`)).toEqual({ subject: 'sam', roles: ['security_admin'], tenant: 'acme' });
    await expect(auth.verify(`Bearer ${await signDevToken({ roles: ['security_admin'], tenant: 'acme' })}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'the token signature is not valid' });
  });

  it('an RS256 config without a key or a JWKS URL is refused at construction', () => {
    expect(() => new Authenticator({ mode: 'rs256' })).toThrow(/PREFLIGHT_JWKS_URL or PREFLIGHT_JWT_PUBLIC_KEY/);
  });
});
