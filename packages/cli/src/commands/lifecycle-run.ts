import { out, type CommandContext } from '../command.js';
import { deregisterCommand, gateCommand, updateCommand } from './lifecycle.js';

// The lifecycle commands take (client, args, io); these adapt them to the command table's `run(ctx)`.
export const update = async ({ args, flags, client }: CommandContext): Promise<number> => updateCommand(await client(), args, { json: flags.json, out });
export const deregister = async ({ args, flags, client }: CommandContext): Promise<number> => deregisterCommand(await client(), args, { json: flags.json, out });
export const gate = async ({ args, flags, client }: CommandContext): Promise<number> => gateCommand(await client(), args, { json: flags.json, out });
