import { color, out, type CommandContext } from '../command.js';

/** `preflight topics`: messages, rate, dead letters and lag per topic. */
export async function run({ flags, client }: CommandContext): Promise<number> {
  const t = await (await client()).call<{ topics: Array<{ topic: string; messages: number; ratePerSec: number; lag: Array<{ group: string; lag: number }>; deadLetters: number | null }> }>('GET', '/api/topics');
  if (flags.json) out(JSON.stringify(t));
  else {
    out(`${'TOPIC'.padEnd(40)} ${'MESSAGES'.padStart(9)} ${'MSGS/S'.padStart(8)} ${'DLQ'.padStart(5)}  LAG`);
    for (const r of t.topics) {
      const dlq = String(r.deadLetters ?? '-').padStart(5);
      out(`${r.topic.padEnd(40)} ${String(r.messages).padStart(9)} ${String(r.ratePerSec).padStart(8)} ${(r.deadLetters ?? 0) > 0 ? color(31, dlq) : dlq}  ${r.lag.map((l) => `${l.group}=${l.lag}`).join(' ') || '-'}`);
    }
    const dead = t.topics.filter((r) => (r.deadLetters ?? 0) > 0);
    if (dead.length) out(`dead letters waiting: ${dead.map((r) => `${r.topic}.dlq (${r.deadLetters})`).join(', ')}; each carries its reason in the dlq_reason header`);
  }
  return 0;
}
