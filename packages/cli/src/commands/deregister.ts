import { ApiError } from '../client.js';
import { out, type CommandContext } from '../command.js';

/** `preflight deregister <connector> [reason…]`: retired, its history kept; a second call says when and by whom. */
export async function run({ args, flags, client }: CommandContext): Promise<number> {
  const [id, ...words] = args;
  if (!id) throw new ApiError(0, { message: 'usage: preflight deregister <connector> [reason…]' });
  const reason = words.join(' ');
  const r = await (await client()).call<{ connectorId: string; eventId: string | null; retired: { at: string; actor: string } }>('DELETE', `/api/connectors/${encodeURIComponent(id)}${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`);
  out(flags.json ? JSON.stringify(r) : r.eventId ? `deregistered ${r.connectorId}; its history stays readable: preflight status ${r.connectorId}` : `${r.connectorId} was already deregistered at ${r.retired.at} by ${r.retired.actor}`);
  return 0;
}
