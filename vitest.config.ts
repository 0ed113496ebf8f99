import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against each workspace package's TypeScript sources, not its build: every entry of
// a package's `exports` (`@tsgrad/nn`, `@tsgrad/nn/node`, ...) maps to its `source` file.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
type Exports = Record<string, string | { source?: string }>;
const alias = readdirSync(packagesDir)
  .filter((dir) => existsSync(`${packagesDir}${dir}/package.json`))
  .flatMap((dir) => {
    const pkg = JSON.parse(readFileSync(`${packagesDir}${dir}/package.json`, 'utf8')) as { name: string; exports: Exports };
    return Object.entries(pkg.exports).flatMap(([sub, target]) => {
      if (typeof target === 'string' || !target.source) return [];
      const name = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
      // Exact matches: '@tsgrad/nn' must not also catch '@tsgrad/nn/node'.
      return [{ find: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`), replacement: `${packagesDir}${dir}/${target.source.slice(2)}` }];
    });
  });

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts', 'docs/**/*.test.ts'],
    pool: 'forks',
    setupFiles: ['scripts/vitest-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
