import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript under our own `preflight-source` condition (a plain
// `source` would also pick the .ts of dependencies that ship one, e.g. eventsource-parser) and the compiled
// dist/ by default (what plain `node` loads); tests always run the source.
const conditions = ['preflight-source', ...defaultServerConditions.filter((c) => c !== 'module')];
const resolve = { conditions };
const ssr = { resolve: { conditions } };

// Two projects so `npm run test:unit` never waits for a broker: unit specs are pure; integration
// and end-to-end specs share one real Kafka + schema registry started by the global setup.
export default defineConfig({
  test: {
    reporters: process.env['VITEST_JSON'] ? ['default', ['json', { outputFile: process.env['VITEST_JSON'] }]] : ['default'],
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: 'unit',
          include: ['packages/**/src/**/*.unit.spec.ts', 'services/**/src/**/*.unit.spec.ts', 'scripts/**/*.unit.spec.ts'],
          testTimeout: 10_000,
          // Pure tests first: they fail fast, before the broker starts.
          sequence: { groupOrder: 0 },
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'int',
          include: ['packages/**/src/**/*.int.spec.ts', 'services/**/src/**/*.int.spec.ts', 'test/**/*.spec.ts'],
          globalSetup: ['./test/setup/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: more workers only make the broker and the databases fight for CPU.
          maxWorkers: 2,
          fileParallelism: true,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
