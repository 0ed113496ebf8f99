import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against each workspace package's TypeScript sources, not its build.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const alias = Object.fromEntries(
  readdirSync(packagesDir)
    .filter((dir) => existsSync(`${packagesDir}${dir}/package.json`))
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(`${packagesDir}${dir}/package.json`, 'utf8')) as { name: string };
      return [pkg.name, `${packagesDir}${dir}/src/index.ts`];
    }),
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'docs/**/*.test.ts'],
    pool: 'forks',
    setupFiles: ['scripts/vitest-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
