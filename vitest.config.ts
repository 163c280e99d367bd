import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{sdk,collector,testing,e2e,bench}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/build/**'],
    // chDB is one engine per process: every test file gets its own process.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
