#!/usr/bin/env node
// The image's one entry point: the first argument picks what this container is, so one image
// runs every service (`docker run IMAGE handshake`, a Helm Deployment's `args: [handshake]`).
import { existsSync } from 'node:fs';

const COMMANDS = {
  handshake: 'services/handshake/dist/main.js',
  'schema-validator': 'services/schema-validator/dist/main.js',
  'credential-auditor': 'services/credential-auditor/dist/main.js',
  readiness: 'services/readiness/dist/main.js',
  projector: 'services/projector/dist/main.js',
  'schema-registry': 'services/schema-registry/dist/main.js',
  'provision-topics': 'packages/bus/dist/provision.js',
  preflight: 'packages/cli/dist/main.js',
};

const [command, ...rest] = process.argv.slice(2);
const target = command ? COMMANDS[command] : undefined;
if (!target) {
  process.stderr.write(`usage: <image> ${Object.keys(COMMANDS).join('|')} [args…]\n`);
  process.exit(command === undefined || command === '--help' ? 0 : 2);
}
const url = new URL(`../../${target}`, import.meta.url);
if (!existsSync(url)) {
  process.stderr.write(`${command}: ${target} is missing from this image\n`);
  process.exit(2);
}
// The command's own argv, as if it had been started directly (the CLI reads its arguments).
process.argv = [process.argv[0], url.pathname, ...rest];
await import(url.href);
