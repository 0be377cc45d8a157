import { describe, expect, it } from 'vitest';
import { BACKEND_QUEUE_SHARE, SUSTAIN_SHARE, judgeProbe } from '../../src/analysis/capacity-verdict.js';
import { CPU_SATURATION_SHARE, type ContextInterval, type Frame, type Slo } from '../../src/vocabulary/index.js';
import { syntheticRun } from './synthetic-frames.js';

const SEEDS = [2, 17, 314, 2718];
const INTERVALS = 6;
const SLO_LOOSE: Slo = { p99_ms: 10_000, max_error_rate: 0.01 };

/** A seeded probe, the rate it was asked for (what was answered per second, so never short) and its exact p99, ms. */
function probe(seed: number): { frames: Frame[]; rate: number; p99_ms: number } {
  const run = syntheticRun(seed, INTERVALS);
  const all = run.flatMap((s) => s.latencies_us).sort((a, b) => a - b);
  return { frames: run.map((s) => s.frame), rate: Math.floor(all.length / INTERVALS), p99_ms: all[Math.ceil(0.99 * all.length) - 1] / 1000 };
}

const withGenerator = (frames: Frame[], i: number, over: Partial<NonNullable<Frame['generator']>>): Frame[] =>
  frames.map((f, j) => (j === i ? { ...f, generator: { ...f.generator!, ...over } } : f));

describe('judgeProbe on seeded probes', () => {
  it.each(SEEDS)('passes within an SLO above the p99 and names the latency below it (seed %i)', (seed) => {
    const p = probe(seed);
    const loose: Slo = { p99_ms: p.p99_ms * 1.5, max_error_rate: 0.01 };
    const pass = judgeProbe(p.rate, p.frames, loose);
    expect(pass).toMatchObject({ pass: true, gave_out: null, error_rate: 0 });
    expect(pass.latency_ms.p99_ms).toBeCloseTo(p.p99_ms, 1);
    const tight: Slo = { p99_ms: p.p99_ms / 2, max_error_rate: 0.01 };
    const fail = judgeProbe(p.rate, p.frames, tight);
    expect(fail).toMatchObject({ pass: false, gave_out: 'latency' });
    expect(fail.reason).toContain(`(SLO p99<${tight.p99_ms}ms)`);
  });

  it.each(SEEDS)('names the errors when more failed than the SLO allows (seed %i)', (seed) => {
    const p = probe(seed);
    const completed = p.frames[0].generator!.completed;
    // As many errors as the first interval's answers: about a seventh of what ended, far over the 1 % allowed.
    const frames = withGenerator(p.frames, 0, { errors: completed });
    expect(judgeProbe(p.rate, frames, { p99_ms: p.p99_ms * 1.5, max_error_rate: 0.01 })).toMatchObject({ pass: false, gave_out: 'errors' });
  });

  it.each(SEEDS)("blames the generator when one of its threads ran out of CPU, counting a core per thread (seed %i)", (seed) => {
    const p = probe(seed);
    const tight: Slo = { p99_ms: p.p99_ms / 2, max_error_rate: 0.01 };
    const busy = Math.ceil(CPU_SATURATION_SHARE * 1000);
    expect(judgeProbe(p.rate, withGenerator(p.frames, 2, { cpu_ms: busy }), tight)).toMatchObject({ gave_out: 'generator' });
    // The same CPU spread over two threads is under the share of two cores: the breach is the server's.
    expect(judgeProbe(p.rate, withGenerator(p.frames, 2, { cpu_ms: busy, threads: 2 }), tight)).toMatchObject({ gave_out: 'latency' });
  });
});

describe('judgeProbe when the rate was not answered', () => {
  const loop = (elu: number): ContextInterval => ({
    key: '1', pid: 1, tid: null, name: 'srv', role: 'server', cpu_user_ms: 500, cpu_system_ms: 100, voluntary: 10,
    involuntary: 1, runqueue_wait_ms: null, eventloop_delay: null, eventloop_utilization: elu, rss_bytes: null,
  });

  it.each(SEEDS)('names the throughput when less than the sustained share of the rate was answered (seed %i)', (seed) => {
    const p = probe(seed);
    const answered = p.frames.reduce((t, f) => t + f.generator!.completed, 0) / INTERVALS;
    // Asked for enough more than was answered that the answers fall short of the sustained share.
    const rate = Math.ceil(answered / SUSTAIN_SHARE) + 1;
    const v = judgeProbe(rate, p.frames, { p99_ms: p.p99_ms * 1.5, max_error_rate: 0.01 });
    expect(v).toMatchObject({ pass: false, gave_out: 'throughput', achieved_rps: Number(answered.toFixed(1)) });
    expect(v.reason).toContain(`only ${Number(answered.toFixed(1))} of ${rate} req/s were answered`);
    // Just within the share, the same probe passes.
    expect(judgeProbe(Math.floor(answered / SUSTAIN_SHARE), p.frames, { p99_ms: p.p99_ms * 1.5, max_error_rate: 0.01 }).pass).toBe(true);
  });

  it('names the throughput when nothing was answered', () => {
    const frames = probe(2).frames.map((f) => ({ ...f, generator: { ...f.generator!, completed: 0, errors: 0, sum_total_ms: 0 } }));
    expect(judgeProbe(100, frames, SLO_LOOSE)).toMatchObject({ pass: false, gave_out: 'throughput', reason: 'at 100 req/s nothing was answered' });
  });

  it.each(SEEDS)("gives the server's event loop as the evidence from 90 %% busy, and not below (seed %i)", (seed) => {
    const p = probe(seed);
    const tight: Slo = { p99_ms: p.p99_ms / 2, max_error_rate: 0.01 };
    const busy = judgeProbe(p.rate, p.frames.map((f) => ({ ...f, contexts: [loop(0.93)] })), tight);
    expect(busy).toMatchObject({ gave_out: 'latency' });
    expect(busy.reason).toMatch(/: the server's event loop was 93% busy$/);
    const idle = judgeProbe(p.rate, p.frames.map((f) => ({ ...f, contexts: [loop(0.85)] })), tight);
    expect(idle.reason).not.toContain('event loop');
    expect(idle.reason).toContain('ms CPU per request');
  });
});

describe("judgeProbe and the backend's limit", () => {
  /** Every backend slot busy, calls waiting `share` of the mean request's latency for a slot. */
  function withBackend(frames: Frame[], share: number): Frame[] {
    const completed = frames.reduce((t, f) => t + f.generator!.completed, 0);
    const meanMs = frames.reduce((t, f) => t + f.generator!.sum_total_ms, 0) / completed;
    return frames.map((f) => {
      const n = f.generator!.completed;
      return { ...f, backend: { calls: n, completed: n, queue_max: 12, queue_mean: 3, in_service_max: 4, limit: 4, sum_service_ms: n * 1, sum_queue_ms: n * share * meanMs } };
    });
  }

  it.each(SEEDS)('blames the backend from a wait for its slots of BACKEND_QUEUE_SHARE of the mean latency, the server below it (seed %i)', (seed) => {
    const p = probe(seed);
    const tight: Slo = { p99_ms: p.p99_ms / 2, max_error_rate: 0.01 };
    expect(judgeProbe(p.rate, withBackend(p.frames, BACKEND_QUEUE_SHARE * 1.2), tight)).toMatchObject({ gave_out: 'backend' });
    expect(judgeProbe(p.rate, withBackend(p.frames, BACKEND_QUEUE_SHARE * 0.8), tight)).toMatchObject({ gave_out: 'latency' });
  });
});
