// The browser tests (`npm run test:browser`): the live view of --inspect-port
// and redloop-replay, driven in headless Chromium (Debian's package, installed
// by scripts/install-chromium.sh) through playwright-core.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
  },
});
