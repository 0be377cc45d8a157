import { defineConfig } from 'vitest/config';

/**
 * Issue 19's load tests (faults, bad input, overload): `npm run test:reliability`. Each file drives real load for
 * up to a minute, so they run one at a time and apart from `npm test`; a short version of one may sit in test/.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // Tests marked concurrent (the HTTP fuzz, one per model) all run at once.
    maxConcurrency: 9,
    // The kernel tracer (root) costs each run of srvlens a few seconds to attach: its own tests turn it on.
    env: { SRVLENS_KERNEL: 'off' },
  },
});
