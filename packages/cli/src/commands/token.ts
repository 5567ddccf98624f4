import { ApiError } from '../client.js';
import { out, type CommandContext } from '../command.js';
import { devTokens } from '../token.js';
import { cliSettings } from '../config.js';

/** `preflight token --role <role>`: a local development token, signed with PREFLIGHT_JWT_SECRET or the dev secret. */
export async function run({ flags }: CommandContext): Promise<number> {
  const { ROLES, signDevToken } = await devTokens();
  const role = ROLES.find((r) => r === flags.role);
  if (!role) throw new ApiError(0, { message: `--role must be one of ${ROLES.join(', ')}` });
  out(await signDevToken({ roles: [role], tenant: flags.tenant ?? 'demo', ...(flags.sub ? { sub: flags.sub } : {}) }, cliSettings().jwtSecret));
  return 0;
}
