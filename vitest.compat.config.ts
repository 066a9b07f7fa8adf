// The differential suite (`npm run test:compat`): test/compat runs the same
// command sequences through a real redis-server and through redloop and
// compares the replies byte for byte. Needs redis-server and redis-benchmark
// on PATH (scripts/install-redis.sh installs them).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/compat/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 30_000,
    // Each file starts its own redis-server and redloop; one file at a time keeps
    // the two cores for the servers (and redis-benchmark's numbers honest).
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
  },
});
