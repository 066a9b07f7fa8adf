// Unit and integration tests (`npm test`). The differential suite against a
// real redis-server lives in test/compat and runs with `npm run test:compat`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/compat/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Servers run in child processes; two workers match the machine's two cores.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
