import { defineConfig } from 'vitest/config';

/**
 * The suites that take minutes each (a whole capacity sweep) or most of one (`srvlens capacity` run three times,
 * a server's short-lived threads), the kernel tracer's (each attach takes seconds, and they drive real servers under
 * load), the longest end-to-end run and the real install of the packed tarball (two npm installs from the registry,
 * a minute or more): `npm run test:slow`, after `npm test` in CI, which keeps `npm test` under its ten minutes.
 */
export const SLOW = ['test/slow/**', 'test/agents/kernel/**', 'test/e2e/fork-cpu.test.ts', 'test/e2e/short-lived-threads.test.ts', 'test/package/install.slow.test.ts'];

export default defineConfig({
  test: {
    include: SLOW.map((p) => (p.endsWith('**') ? `${p}/*.test.ts` : p)),
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // The kernel tracer (root) costs each run of srvlens a few seconds to attach: its own tests turn it on.
    env: { SRVLENS_KERNEL: 'off' },
  },
});
