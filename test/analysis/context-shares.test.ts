/** Contexts at a step, grouped: like contexts (names that differ in a number) are one row, counted, CPU in cores. */
import { describe, expect, it } from 'vitest';
import type { ContextInterval, Frame } from '../../src/vocabulary/index.js';
import { contextGroups } from '../../src/analysis/context-shares.js';

const INTERVAL_MS = 1000;
const ctx = (key: string, name: string, cpuMs: number, runqMs: number | null, role = 'js'): ContextInterval => ({
  key,
  pid: 1,
  tid: null,
  name: `pool-8:${name}`,
  role,
  cpu_user_ms: cpuMs * 0.75,
  cpu_system_ms: cpuMs * 0.25,
  voluntary: 0,
  involuntary: 0,
  runqueue_wait_ms: runqMs,
  eventloop_delay: null,
  eventloop_utilization: null,
  rss_bytes: null,
});
const frame = (index: number, contexts: ContextInterval[]) => ({ kind: 'frame', run: 0, index, t_ms: index * INTERVAL_MS, interval_ms: INTERVAL_MS, phase: 'p', generator: null, server: null, contexts, backend: null }) as unknown as Frame;

describe('contextGroups', () => {
  it('makes one row of a pool, keeps the others apart, and reads CPU and run-queue wait over the step\'s wall time', () => {
    const frames = [
      frame(0, [ctx('1/2', 'pool-0', 400, 100), ctx('1/3', 'pool-1', 200, 50), ctx('1/1', 'main', 10, null), ctx('1/9', 'srvlens-agent', 5, null, 'agent')]),
      // A thread that starts in the second interval, and the first one alone busy.
      frame(1, [ctx('1/2', 'pool-0', 600, 300), ctx('1/4', 'pool-12', 200, 50), ctx('1/1', 'main', 10, null)]),
    ];
    expect(contextGroups(frames)).toEqual([
      // (400 + 200 + 600 + 200) ms of CPU over 2000 ms: 0.7 cores; (100 + 50 + 300 + 50) / 2000 waiting.
      { name: 'pool-#', role: 'js', contexts: 3, cpu_cores: 0.7, runqueue_waiting: 0.25 },
      { name: 'main', role: 'js', contexts: 1, cpu_cores: 0.01, runqueue_waiting: null },
      { name: 'srvlens-agent', role: 'agent', contexts: 1, cpu_cores: 0.003, runqueue_waiting: null },
    ]);
  });

  it('has nothing to say of no time', () => {
    expect(contextGroups([])).toEqual([]);
  });
});
