/**
 * The /proc agent on Debian's nginx: a master and two event-loop workers, from a config of our own, on loopback.
 * Without nginx this fails and says how to install it (scripts/test-deps.sh): a skipped test would hide that the
 * agent's claim about servers in other languages went unchecked.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectModel } from '../../../src/analysis/detect-model.js';
import { sampleTree } from '../../../agents/proc/sample-tree.js';
import { waitUntil } from '../../helpers/processes.js';
import { childrenOf, keepAliveLoad, type RunningServer, startNginx, stopAll } from './real-servers.js';

describe('the /proc agent on nginx (master + 2 workers)', () => {
  let nginx: RunningServer;
  beforeAll(async () => {
    nginx = await startNginx(2);
  });
  afterAll(stopAll);

  it('sees the master and its two workers, and says unknown while nothing is connected', async () => {
    const w = await sampleTree({ pid: nginx.pid, durationMs: 500, intervalMs: 100 });
    const workers = childrenOf(nginx.pid).sort((a, b) => a - b);
    expect(workers).toHaveLength(2);
    expect(w.processes.map((p) => p.pid)).toEqual([nginx.pid, ...workers]);
    expect(w.processes.every((p) => p.name === 'nginx' && p.threads_max === 1)).toBe(true);
    const found = detectModel(w);
    expect(found.model).toBe('unknown');
    expect(found.evidence[0]).toMatch(/^2 worker processes of the same executable \(\S*nginx\) under one master \(PID \d+\)$/);
  });

  it('names it event-loop-per-core under keep-alive load, with CPU, context switches and the listener', async () => {
    const load = keepAliveLoad(nginx.port, 12, 5);
    await waitUntil(() => load.completed() >= 24, 10_000);
    const w = await sampleTree({ pid: nginx.pid, durationMs: 2000, intervalMs: 100 });
    const served = await load.stop();
    const found = detectModel(w);
    expect(found.model, found.evidence.join('\n')).toBe('event-loop-per-core');
    expect(found.evidence).toContainEqual(expect.stringMatching(/^worker PID \d+ held up to \d+ connections at once on its one thread$/));
    expect(served).toBeGreaterThan(24);

    const workers = w.processes.filter((p) => p.ppid === nginx.pid);
    expect(workers).toHaveLength(2);
    expect(Math.max(...workers.map((p) => p.inbound_max))).toBeGreaterThanOrEqual(2);
    const workerThreads = w.contexts.filter((c) => c.pid !== nginx.pid);
    expect(workerThreads).toHaveLength(2);
    const sum = (f: (c: (typeof workerThreads)[number]) => number | null) => workerThreads.reduce((s, c) => s + (f(c) ?? 0), 0);
    expect(sum((c) => c.oncpu_ms)).toBeGreaterThan(0);
    expect(sum((c) => c.voluntary)).toBeGreaterThan(0);
    expect(workerThreads.every((c) => c.runqueue_wait_ms !== null && c.timeslices !== null)).toBe(true);

    // nginx listens with a backlog of 511 on Linux, which the kernel caps at somaxconn.
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    expect(w.listeners).toEqual([
      expect.objectContaining({ listen: `127.0.0.1:${nginx.port}`, pids: [nginx.pid, ...workers.map((p) => p.pid)], max: Math.min(511, somaxconn) }),
    ]);
  });
});
