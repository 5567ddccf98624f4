// What every command shares: the parsed flags, the API client, and how output looks.
import type { Client } from './client.js';

export interface Flags {
  json: boolean;
  junit?: boolean;
  wait: boolean;
  api: string;
  timeoutS: number;
  role?: string;
  tenant?: string;
  sub?: string;
  /** `incidents --status`. */
  status?: string;
}

export interface CommandContext {
  args: string[];
  flags: Flags;
  /** The API client, with a token; only commands that call the API ask for it. */
  client: () => Promise<Client>;
}

/** A command returns its exit code: 0 success / READY, 1 FAILED, 2 usage or API error, 3 timed out. */
export type Command = (ctx: CommandContext) => Promise<number>;

export const out = (s: string): void => void process.stdout.write(`${s}\n`);
export const tty = process.stdout.isTTY;
export const color = (code: number, s: string): string => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
export const statusColor = (s: string): string => (s === 'READY' ? color(32, s) : s === 'FAILED' ? color(31, s) : color(33, s));
