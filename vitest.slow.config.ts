import { defineConfig } from 'vitest/config';

/** The suites that take minutes each (a whole capacity sweep): `npm run test:slow`, after `npm test` in CI. */
export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
