import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['main/*.test.ts', 'main/**/*.test.ts', 'preload/**/*.test.ts', 'db/**/*.test.ts', 'experiments/**/*.test.ts', 'renderer/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
