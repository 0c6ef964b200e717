import { defineConfig } from 'vitest/config';

/**
 * End-to-end tests (`npm run test:e2e`, after `npm run build`): the web host in Chromium and the
 * Electron smoke test. They start real processes and browsers, so they run one file at a time
 * with generous timeouts.
 */
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
