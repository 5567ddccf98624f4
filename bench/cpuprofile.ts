// npx tsx bench/cpuprofile.ts <file.cpuprofile> [top=25] — the functions with the most self time
// in a V8 CPU profile (`node --cpu-prof`), grouped by function and file, as a share of all
// non-idle samples: what docs/performance.md quotes for each hot path.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/cpuprofile.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Sample time, not hit counts: V8 samples at uneven intervals under load.
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));

const IDLE = new Set(['(idle)', '(program)', '(root)']);
const totals = new Map<string, number>();
let busy = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  if (IDLE.has(functionName)) {
    idle += us;
    continue;
  }
  busy += us;
  const where = url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/(packages|services|bench)\//, '$1/');
  const key = `${functionName || '(anonymous)'}  ${where}${where ? `:${lineNumber + 1}` : ''}`;
  totals.set(key, (totals.get(key) ?? 0) + us);
}
console.log(`${file}: busy ${(busy / 1000).toFixed(0)} ms, idle/program ${(idle / 1000).toFixed(0)} ms`);
for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}
