import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Test the TypeScript sources directly (package.json "exports" condition "source").
    conditions: ['source'],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
