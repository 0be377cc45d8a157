/**
 * The server side's figures of frames no load generator measured (what `srvlens report` shows of a dashboard
 * recording, and the live dashboard shows per window), on synthetic frames from a fixed seed: histograms merged
 * across intervals and scales, parts over the requests they were measured on, and null wherever nothing was.
 */
import { describe, expect, it } from 'vitest';
import { ExpHistogram, STAGES, type ContextInterval, type ExpHistogramData, type Frame, type ServerInterval, type StageName, type StageSum } from '../../src/vocabulary/index.js';
import { mulberry32 } from '../../src/vocabulary/random.js';
import { serverSideStats } from '../../src/analysis/server-side-stats.js';
import { agentsOnlyPhaseStats } from '../../src/analysis/agents-only-phase.js';

const INTERVAL_MS = 500;

function exact(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

function histogram(seconds: readonly number[], scale = 4): ExpHistogramData {
  const h = new ExpHistogram(1e-7, 1e4, scale);
  for (const v of seconds) h.record(v);
  return h.toData();
}

type Stages = Partial<Record<StageName, Partial<StageSum>>>;

/** An agents' interval: `durations` in seconds; stages not given were never entered. */
function server(durations: readonly number[], stages: Stages = {}, scale = 4, joined = 0): ServerInterval {
  const all = Object.fromEntries(STAGES.map((s) => [s, { sum_ms: 0, requests: 0, entries: 0, ...stages[s] }])) as Record<StageName, StageSum>;
  return { requests: durations.length, joined, stages: all, duration: histogram(durations, scale), dropped: 0, agent_errors: 0 };
}

function context(over: Partial<ContextInterval> = {}): ContextInterval {
  return {
    key: '1/1', pid: 1, tid: 1, name: 'main', role: 'server',
    cpu_user_ms: 0, cpu_system_ms: 0, voluntary: 0, involuntary: 0, runqueue_wait_ms: null,
    eventloop_delay: null, eventloop_utilization: null, rss_bytes: null,
    ...over,
  };
}

function frame(index: number, s: ServerInterval | null, contexts: ContextInterval[] = [context()]): Frame {
  return { kind: 'frame', run: 0, index, t_ms: index * INTERVAL_MS, interval_ms: INTERVAL_MS, phase: null, generator: null, server: s, contexts, backend: null };
}

describe('the server side of frames without a generator', () => {
  it('reads the server time from the intervals\' histograms merged, at different scales, within a bucket of the exact quantiles', () => {
    const rnd = mulberry32(11);
    // Two sources of one service: our agent (scale 4) and an OpenTelemetry SDK whose histogram is coarser (scale 2).
    const a = Array.from({ length: 400 }, () => 0.005 + rnd() * 0.01); // 5-15 ms
    const b = Array.from({ length: 600 }, () => Math.exp(rnd() * 4 - 5)); // 7 ms .. 0.37 s, log-uniform
    const frames = [frame(100, server(a.slice(0, 200))), frame(101, server(b, {}, 2)), frame(102, server(a.slice(200)))];
    const t = serverSideStats(frames).time_ms!;
    const all = [...a, ...b];
    // Half a bucket at the coarsest scale among them: base 2^(1/4), so within 9 %.
    for (const [got, q] of [[t.p50, 0.5], [t.p90, 0.9], [t.p99, 0.99]] as const) {
      expect(Math.abs(got! / (exact(all, q) * 1000) - 1), `p${q * 100}`).toBeLessThan(0.091);
    }
    expect(t.max).toBeCloseTo(Math.max(...all) * 1000, 9);
    expect(t.mean).toBeCloseTo((all.reduce((x, y) => x + y, 0) / all.length) * 1000, 9);
  });

  it('takes percentiles of the merge, not the mean of each interval\'s', () => {
    // 100 requests at 1 ms in one interval, 100 at 50 ms in the next: the median request took 1 ms, not 25.5.
    const frames = [frame(1, server(Array(100).fill(0.001))), frame(2, server(Array(100).fill(0.05)))];
    const p = agentsOnlyPhaseStats('live', frames);
    // Within half a bucket (2.2 % at scale 4) of the exact 1 ms and 50 ms.
    expect(Math.abs(p.server_time_ms!.p50! / 1 - 1)).toBeLessThan(0.023);
    expect(Math.abs(p.server_time_ms!.p90! / 50 - 1)).toBeLessThan(0.023);
    expect(p.server_requests).toBe(200);
    expect(p.served_rps).toBe(200); // 200 requests over two 500 ms intervals
    expect(p.duration_s).toBe(1);
  });

  it('takes each part over the requests it was measured on: the queue parts over the joined requests only', () => {
    const s = server(Array(10).fill(0.003), {
      // 4 of the 10 requests carried the client's send time: they waited 1 ms each before the handler.
      server_queue: { sum_ms: 4, requests: 4, entries: 4 },
      process: { sum_ms: 20, requests: 10, entries: 10 },
      send: { sum_ms: 1, requests: 10, entries: 10 },
    }, 4, 4);
    const p = agentsOnlyPhaseStats('live', [frame(1, s)]);
    expect(p.parts_ms).toEqual({
      send_wait: null,
      accept_queue: null,
      server_queue: 1,
      parse: null,
      process: 2,
      downstream: null,
      transform: null,
      send: 0.1,
      network: null,
      unmeasured: null,
    });
    // The handler's parts (2.1 ms) of the 3 ms server time; the queue came before the handler started.
    expect(p.server_time_coverage).toBeCloseTo(2.1 / 3, 2);
  });

  it('leaves the client\'s figures null, never 0, and counts the costs per request the agents saw', () => {
    const rnd = mulberry32(3);
    const loop = (n: number) => histogram(Array.from({ length: n }, () => rnd() * 0.002));
    const frames = [
      frame(1, server(Array(20).fill(0.002), { process: { sum_ms: 40, requests: 20, entries: 20 } }), [
        context({ cpu_user_ms: 30, cpu_system_ms: 10, voluntary: 30, involuntary: 10, runqueue_wait_ms: 2, eventloop_delay: loop(50), eventloop_utilization: 0.2 }),
      ]),
      frame(2, server(Array(20).fill(0.002), { process: { sum_ms: 40, requests: 20, entries: 20 } }), [
        context({ cpu_user_ms: 30, cpu_system_ms: 10, voluntary: 10, involuntary: 10, runqueue_wait_ms: 2, eventloop_delay: loop(50), eventloop_utilization: 0.4 }),
        context({ key: '1', tid: null, name: 'runtime', role: 'runtime', cpu_user_ms: 8 }),
      ]),
    ];
    const p = agentsOnlyPhaseStats('live', frames);
    expect(p).toMatchObject({
      offered_rps: null,
      achieved_rps: null,
      requests: null,
      errors: null,
      latency_ms: { mean: null, p50: null, p90: null, p99: null, max: null, uncorrected_p99: null },
      coverage: null,
      matched_share: null,
      generator_saturated: null,
      closed_loop: null,
      server_requests: 40,
      cpu_ms_per_request: 2.2, // (40 + 40 + 8) ms over 40 requests
      context_switches_per_request: { voluntary: 1, involuntary: 0.5 },
      runqueue_wait_ms_per_request: 0.1,
      eventloop_utilization: 0.3,
      accept_queue: null,
      backend: null,
    });
    for (const part of ['send_wait', 'network', 'unmeasured'] as const) expect(p.parts_ms[part], part).toBeNull();
    // The loop's delay from both intervals' histograms merged: 100 samples of 0-2 ms.
    expect(p.eventloop_delay_ms!.max).toBeLessThanOrEqual(2);
    expect(p.eventloop_delay_ms!.p50).toBeGreaterThan(0.5);
    expect(p.eventloop_delay_ms!.p50).toBeLessThan(1.5);
  });

  it('says nothing about requests when no agent reported any: null, not 0', () => {
    const frames = [frame(1, null, [context({ cpu_user_ms: 5 })]), frame(2, null, [context({ cpu_user_ms: 5 })])];
    const s = serverSideStats(frames);
    expect(s).toMatchObject({ measured_by: 'proc', intervals: 2, duration_s: 1, requests: null, served_rps: null, time_ms: null, coverage: null });
    expect(Object.values(s.parts_ms).every((v) => v === null)).toBe(true);
    const p = agentsOnlyPhaseStats('live', frames);
    expect(p).toMatchObject({ server_requests: null, served_rps: null, server_time_ms: null, server_time_coverage: null, cpu_ms_per_request: null, eventloop_delay_ms: null });
  });

  it('counts a quiet interval (requests 0) in the duration, with no server time made up', () => {
    const s = serverSideStats([frame(1, server([])), frame(2, server([0.004, 0.006]))]);
    expect(s).toMatchObject({ measured_by: 'agents', requests: 2, served_rps: 2, duration_s: 1 });
    expect(serverSideStats([frame(1, server([]))])).toMatchObject({ requests: 0, served_rps: 0, time_ms: null });
  });
});
