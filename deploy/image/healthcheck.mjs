#!/usr/bin/env node
// HEALTHCHECK of the image: the pipeline services answer on HEALTH_PORT, the projector on
// API_PORT; a container without either (a one-shot command) counts as healthy while it runs.
const port = process.env.HEALTH_PORT ?? process.env.API_PORT;
if (!port) process.exit(0);
try {
  const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) });
  process.exit(r.ok ? 0 : 1);
} catch {
  process.exit(1);
}
