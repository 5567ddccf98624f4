import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor holding `infra/kafka/pom.xml`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'infra', 'kafka', 'pom.xml'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (infra/kafka/pom.xml)');
    dir = up;
  }
}

/** Where local servers keep their data: `.data/` in the repo (git-ignored) unless PREFLIGHT_DATA_DIR says otherwise. */
export function dataRoot(): string {
  return process.env['PREFLIGHT_DATA_DIR'] ?? join(repoRoot(), '.data');
}
