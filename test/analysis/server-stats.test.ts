import { describe, expect, it } from 'vitest';
import { intervalServerStats, serverStats } from '../../src/analysis/server-stats.js';
import type { ContextInterval, Frame } from '../../src/vocabulary/index.js';
import { syntheticRun } from './synthetic-frames.js';
import { seeded } from './synthetic-windows.js';

function context(r: () => number, pid: number): ContextInterval {
  return {
    key: String(pid), pid, tid: null, name: 'srv', role: 'server',
    cpu_user_ms: Math.round(r() * 600), cpu_system_ms: Math.round(r() * 200),
    voluntary: Math.round(r() * 5000), involuntary: Math.round(r() * 300),
    runqueue_wait_ms: r() * 20, eventloop_delay: null, eventloop_utilization: null, rss_bytes: null,
  };
}

/** Seeded frames that only the agents measured (no generator), with two contexts each. */
function agentsOnly(seed: number): Frame[] {
  const r = seeded(seed);
  return syntheticRun(seed, 5).map((s) => ({ ...s.frame, generator: null, contexts: [context(r, 10), context(r, 11)] }));
}

describe('serverStats', () => {
  it.each([4, 40, 400])('gives switches per second and CPU in cores summed over the contexts (seed %i)', (seed) => {
    const frames = agentsOnly(seed);
    const contexts = frames.flatMap((f) => f.contexts);
    const seconds = frames.length; // one-second intervals
    const got = serverStats(frames);
    expect(got.switches_per_s!.voluntary).toBeCloseTo(contexts.reduce((t, c) => t + c.voluntary, 0) / seconds, 9);
    expect(got.switches_per_s!.involuntary).toBeCloseTo(contexts.reduce((t, c) => t + c.involuntary, 0) / seconds, 9);
    expect(got.cpu_cores).toBeCloseTo(contexts.reduce((t, c) => t + c.cpu_user_ms + c.cpu_system_ms, 0) / 1000 / seconds, 9);
    const requests = frames.reduce((t, f) => t + f.server!.requests, 0);
    expect(got.requests).toBe(requests);
    expect(got.measured_by).toBe('agents');
  });

  it('says absent (null), never 0, where no context reported, and keeps each interval computed once', () => {
    const frames = agentsOnly(4).map((f) => ({ ...f, contexts: [] }));
    expect(serverStats(frames)).toMatchObject({ switches_per_s: null, cpu_cores: null });
    expect(intervalServerStats(frames[0])).toBe(intervalServerStats(frames[0]));
  });
});
