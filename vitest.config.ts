import { defineConfig } from 'vitest/config';
import { SLOW } from './vitest.slow.config.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites of several minutes each run apart (npm run test:slow, test:reliability: vitest.slow.config.ts,
    // vitest.reliability.config.ts): npm test stays under ten.
    exclude: [...SLOW, 'test/reliability/**', '**/node_modules/**'],
    // Tests start real servers and processes; give them room but keep the suite bounded.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Two cores: files that run load must not run at the same time as each other.
    fileParallelism: false,
    // The kernel tracer (root) costs each run of srvlens a few seconds to attach: its own tests turn it on.
    env: { SRVLENS_KERNEL: 'off' },
  },
});
