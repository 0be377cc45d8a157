import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites of several minutes each run apart (npm run test:slow, test:reliability: vitest.slow.config.ts,
    // vitest.reliability.config.ts): npm test stays under ten.
    exclude: ['test/slow/**', 'test/reliability/**', '**/node_modules/**'],
    // Tests start real servers and processes; give them room but keep the suite bounded.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Two cores: files that run load must not run at the same time as each other.
    fileParallelism: false,
  },
});
