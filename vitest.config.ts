// Unit and integration tests (`npm test`). The differential suite against a
// real redis-server lives in test/compat and runs with `npm run test:compat`;
// the browser tests of the live view (test/browser) run with `npm run test:browser`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/compat/**', 'test/browser/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Servers run in child processes; two workers match the machine's two cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
