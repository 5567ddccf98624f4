import type { ROLES, signDevToken } from '@preflight/auth';
import { ApiError } from './client.js';
import type { Flags } from './command.js';
import { cliSettings } from './config.js';

/** Token signing pulls in jose and the platform core: loaded only by the commands that sign, so `--help` stays instant. */
export const devTokens = (): Promise<{ ROLES: typeof ROLES; signDevToken: typeof signDevToken }> => import('@preflight/auth');

/** PREFLIGHT_TOKEN, or on a loopback API a development token. */
export async function tokenFor(flags: Flags): Promise<string> {
  const settings = cliSettings();
  if (settings.token) return settings.token;
  const host = new URL(flags.api).hostname;
  if (host === '127.0.0.1' || host === 'localhost' || host === '::1') return (await devTokens()).signDevToken({ sub: 'cli', roles: ['platform_admin'], tenant: 'demo' }, settings.jwtSecret);
  throw new ApiError(0, { message: 'set PREFLIGHT_TOKEN to a bearer token for this API' });
}
