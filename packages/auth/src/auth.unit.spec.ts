import { afterEach, describe, expect, it, vi } from 'vitest';
import { authConfigFromEnv, Authenticator, DEV_JWT_SECRET, signDevToken, VERIFIED_TOKENS } from './index.js';

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

  describe('verified tokens are remembered, never past their expiry', () => {
    afterEach(() => void vi.useRealTimers());

    it('a remembered token stops verifying at its exp, with the same refusal as a fresh check', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-12-03T00:00:00Z'));
      const auth = new Authenticator({ mode: 'hs256', secret: 'team-secret' });
      const token = await signDevToken({ roles: ['tenant_data_engineer'], tenant: 'acme', sub: 'kim' }, 'team-secret', '30s');
      expect(await auth.verify(`Bearer ${token}`)).toEqual({ subject: 'kim', roles: ['tenant_data_engineer'], tenant: 'acme' });
      vi.setSystemTime(new Date('2026-12-03T00:00:29Z'));
      expect(await auth.verify(`Bearer ${token}`)).toEqual({ subject: 'kim', roles: ['tenant_data_engineer'], tenant: 'acme' });
      vi.setSystemTime(new Date('2026-12-03T00:00:31Z'));
      await expect(auth.verify(`Bearer ${token}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'the token has expired' });
    });

    it('a long-lived token is checked again after the cache lifetime: a tampered copy never rides on it', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-12-03T00:00:00Z'));
      const auth = new Authenticator({ mode: 'hs256', secret: 'team-secret' });
      const token = await signDevToken({ roles: ['tenant_data_engineer'], tenant: 'acme' }, 'team-secret', '8h');
      await auth.verify(`Bearer ${token}`);
      // Another string is another entry: a changed signature is verified, and refused.
      const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
      await expect(auth.verify(`Bearer ${tampered}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      const entry = (auth as unknown as { verified: Map<string, { until: number }> }).verified.get(token);
      expect(entry?.until).toBe(Date.now() + VERIFIED_TOKENS.ttlMs);
      vi.setSystemTime(new Date(Date.now() + VERIFIED_TOKENS.ttlMs + 1));
      expect(await auth.verify(`Bearer ${token}`)).toMatchObject({ tenant: 'acme' });
      expect((auth as unknown as { verified: Map<string, { until: number }> }).verified.get(token)?.until).toBe(Date.now() + VERIFIED_TOKENS.ttlMs);
    });

    it('what a caller does to a returned principal does not change the next answer', async () => {
      const auth = new Authenticator({ mode: 'hs256', secret: 'team-secret' });
      const token = await signDevToken({ roles: ['security_admin'], tenant: 'acme', sub: 'sam' }, 'team-secret');
      const first = await auth.verify(`Bearer ${token}`);
      first.roles.push('platform_admin');
      first.tenant = 'other';
      expect(await auth.verify(`Bearer ${token}`)).toEqual({ subject: 'sam', roles: ['security_admin'], tenant: 'acme' });
    });

    it('holds at most VERIFIED_TOKENS.max tokens, dropping the least recently used', async () => {
      const auth = new Authenticator({ mode: 'hs256', secret: 'team-secret' });
      const tokens = await Promise.all(Array.from({ length: VERIFIED_TOKENS.max + 10 }, (_, i) => signDevToken({ roles: ['tenant_data_engineer'], tenant: `t${i}` }, 'team-secret')));
      for (const t of tokens) await auth.verify(`Bearer ${t}`);
      const verified = (auth as unknown as { verified: Map<string, unknown> }).verified;
      expect(verified.size).toBe(VERIFIED_TOKENS.max);
      expect(verified.has(tokens[0]!)).toBe(false);
      expect(verified.has(tokens.at(-1)!)).toBe(true);
    });
  });
});
