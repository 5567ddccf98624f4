#!/usr/bin/env node
// Applies the project's patches to installed dependencies (npm's postinstall; the Dockerfile runs it
// after `npm ci --ignore-scripts`). A patch replaces one file of one exact release, and only when the
// installed file is byte for byte the one it was written against; anything else leaves the file
// alone and says so, so a kafkajs upgrade can never get a patch meant for another version (then the
// patch must be redone or dropped: PATCH_DEPS_STRICT=1 makes that an error). What each patch is for:
// docs/bus.md.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

const patches = [
  {
    pkg: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/recordBatch/record/v0/index.js',
    originalSha256: 'ffbc628c1f35f5de8ba798165616b1009d9af1c27ca959999a10e6e3c18f8215',
    replacement: 'patches/kafkajs/record-v0.js',
  },
  {
    pkg: 'kafkajs',
    version: '2.2.4',
    file: 'src/producer/sendMessages.js',
    originalSha256: '8a120e6993955e040a13014cccebd79b8d41e7355d6eda1065fa83fea2fbbcdb',
    replacement: 'patches/kafkajs/send-messages.js',
  },
];

let failed = false;
for (const p of patches) {
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve(`${p.pkg}/package.json`));
  } catch {
    console.warn(`patch-deps: ${p.pkg} is not installed; ${p.file} not patched`);
    continue;
  }
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const target = join(pkgDir, p.file);
  const want = readFileSync(join(root, p.replacement));
  const have = readFileSync(target);
  if (have.equals(want)) continue;
  const sha = createHash('sha256').update(have).digest('hex');
  if (version !== p.version || sha !== p.originalSha256) {
    console.warn(`patch-deps: ${p.pkg}@${version} ${p.file} is not the file the patch was written for (${p.pkg}@${p.version}); left as it is`);
    failed ||= process.env['PATCH_DEPS_STRICT'] === '1';
    continue;
  }
  writeFileSync(target, want);
  console.log(`patch-deps: ${p.pkg}@${version} ${p.file} patched (${p.replacement})`);
}
process.exit(failed ? 1 : 0);
