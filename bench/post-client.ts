// The load client of the API bench's POST part, in its own process (bench/api.ts spawns it): in
// the same process its fetch machinery took 10-15% of the CPU the bench charged to the API
// (profile, issue 14), and no real client shares the API's event loop.
// It speaks HTTP/1.1 through node:http with 50 kept-alive sockets, as load generators do (autocannon):
// the global fetch cost ~1.4 ms of CPU per request, the client then had half the machine.
// Reads one JSON job from stdin, writes one JSON result line to stdout.
import { Agent, request } from 'node:http';
import { text } from 'node:stream/consumers';

interface Job {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  namePrefix: string;
  n: number;
  /** Requests sent first and not measured: first-use costs (the contract schema's compile, the registry lookups) are not the steady state. */
  warmup: number;
  concurrency: number;
}
const job = JSON.parse(await text(process.stdin)) as Job;
const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });

function post(body: string): Promise<{ status: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const req = request(job.url, { method: 'POST', agent, headers: { ...job.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let answer = '';
      res.setEncoding('utf8').on('data', (d: string) => (answer += d)).once('end', () => resolve({ status: res.statusCode ?? 0, answer })).once('error', reject);
    });
    req.once('error', reject).end(body);
  });
}
const ms: number[] = [];
const failures: string[] = [];
async function run(n: number, tag: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        const { status, answer } = await post(JSON.stringify({ ...job.body, name: `${job.namePrefix}-${tag}${i}` }));
        if (status >= 300) failures.push(`${status} ${answer.slice(0, 200)}`);
        if (tag === '') ms.push(performance.now() - t);
      }
    }),
  );
}
await run(job.warmup, 'warm-');
// The parent measures its own CPU from this line on.
process.stdout.write('warm\n');
const cpu = process.cpuUsage();
const t0 = performance.now();
await run(job.n, '');
const wallMs = performance.now() - t0;
const used = process.cpuUsage(cpu);
agent.destroy();
process.stdout.write(JSON.stringify({ ms, wallMs, cpuUsPerRequest: (used.user + used.system) / job.n, failures }) + '\n');
