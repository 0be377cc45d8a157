import { describe, expect, it } from 'vitest';
import { phaseStats } from '../../src/analysis/phase-stats.js';
import { phasesOf } from '../../src/analysis/phase-grouping.js';
import { ExpHistogram, STAGES, type Frame } from '../../src/vocabulary/index.js';
import { syntheticInterval, syntheticRun, type SyntheticInterval } from './synthetic-frames.js';
import { seeded } from './synthetic-windows.js';

const SEEDS = [1, 7, 42, 1234, 99_991];

/** The figures worked out from the synthetic inputs directly, the way ARCHITECTURE section 1 defines them. */
function byHand(list: readonly SyntheticInterval[]) {
  const frames = list.map((s) => s.frame);
  let completed = 0;
  let total = 0;
  let sendWait = 0;
  let matchedRequests = 0;
  let matchedNetworkMs = 0;
  const stageMsSum = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<(typeof STAGES)[number], number>;
  let stageOver = 0;
  for (const f of frames) {
    const g = f.generator!;
    const s = f.server!;
    completed += g.completed;
    total += g.sum_total_ms;
    sendWait += g.sum_send_wait_ms;
    stageOver += s.joined;
    let server = 0;
    for (const st of STAGES) {
      stageMsSum[st] += s.stages[st].sum_ms;
      server += s.stages[st].sum_ms;
    }
    if (g.completed === s.joined && s.joined === s.requests) {
      matchedRequests += g.completed;
      matchedNetworkMs += g.sum_response_ms - server;
    }
  }
  const meanMs = total / completed;
  const sendWaitMs = sendWait / completed;
  const stagesMs = STAGES.map((st) => stageMsSum[st] / stageOver);
  const networkMs = matchedRequests > 0 ? matchedNetworkMs / matchedRequests : null;
  const unmeasuredMs = meanMs - sendWaitMs - stagesMs.reduce((a, b) => a + b, 0) - (networkMs ?? 0);
  return { completed, meanMs, sendWaitMs, stagesMs, networkMs, matchedShare: matchedRequests / completed, unmeasuredMs };
}

describe('phaseStats: network, matched share and unmeasured', () => {
  it.each(SEEDS)('takes network from every interval when both sides always count the same requests (seed %i)', (seed) => {
    const run = syntheticRun(seed, 8);
    const want = byHand(run);
    const got = phaseStats('steady', run.map((s) => s.frame));
    expect(got.requests).toBe(want.completed);
    expect(got.matched_share).toBe(1);
    // Each request's network time was drawn from 0.2-0.6 ms: the mean must lie there, and be the one worked out.
    expect(want.networkMs).toBeGreaterThan(0.2);
    expect(want.networkMs).toBeLessThan(0.6);
    expect(got.parts_ms.network).toBeCloseTo(want.networkMs!, 4);
    expect(got.parts_ms.send_wait).toBeCloseTo(want.sendWaitMs, 4);
    STAGES.forEach((st, i) => expect(got.parts_ms[st]).toBeCloseTo(want.stagesMs[i], 4));
    // Every request's latency is its send wait, stages and network: nothing is left unmeasured, coverage is whole.
    expect(Math.abs(want.unmeasuredMs)).toBeLessThan(1e-9);
    expect(Math.abs(got.parts_ms.unmeasured!)).toBeLessThan(1e-3);
    expect(got.coverage).toBeCloseTo(1, 3);
    expect(got.latency_ms.mean).toBeCloseTo(want.meanMs, 3);
  });

  it.each(SEEDS)('leaves unmatched intervals out of network and shows the remainder of the mean as unmeasured (seed %i)', (seed) => {
    // Every third interval: the agent missed some responses (in flight across the boundary) or saw requests unjoined.
    const run = syntheticRun(seed, 9, (i) => (i % 3 === 0 ? { missed: 10 } : i % 3 === 1 ? { unjoined: 5 } : {}));
    const want = byHand(run);
    const matched = run.filter((_, i) => i % 3 === 2).reduce((a, s) => a + s.frame.generator!.completed, 0);
    expect(want.matchedShare).toBeCloseTo(matched / want.completed, 12);
    const got = phaseStats('steady', run.map((s) => s.frame));
    expect(got.matched_share).toBe(Number(want.matchedShare.toFixed(4)));
    expect(got.matched_share).toBeLessThan(0.5);
    expect(got.parts_ms.network).toBeCloseTo(want.networkMs!, 4);
    // The parts are means over different requests (the network's over matched intervals only): what they leave of
    // the client's mean is shown as unmeasured, whatever its sign, never spread over the parts.
    expect(got.parts_ms.unmeasured).toBeCloseTo(want.unmeasuredMs, 3);
    expect(got.coverage).toBeCloseTo(1 - Math.abs(want.unmeasuredMs) / want.meanMs, 3);
  });

  it('reports network as not measured (null), never 0, when no interval matched', () => {
    const run = syntheticRun(3, 4, () => ({ unjoined: 1 }));
    const got = phaseStats('steady', run.map((s) => s.frame));
    expect(got.matched_share).toBe(0);
    expect(got.parts_ms.network).toBeNull();
    const want = byHand(run);
    expect(got.parts_ms.unmeasured).toBeCloseTo(want.unmeasuredMs, 3);
  });

  it('reads the percentiles from the merged histograms, within their precision', () => {
    const run = syntheticRun(11, 6);
    const all = run.flatMap((s) => s.latencies_us).sort((a, b) => a - b);
    const exact = (q: number) => all[Math.ceil(q * all.length) - 1] / 1000;
    const got = phaseStats('steady', run.map((s) => s.frame));
    // Three significant digits: 0.1 % of the value, plus the rounding to µs.
    for (const [q, v] of [[0.5, got.latency_ms.p50], [0.99, got.latency_ms.p99]] as const) expect(Math.abs(v! - exact(q))).toBeLessThanOrEqual(exact(q) * 1e-3 + 0.001);
    expect(Math.abs(got.latency_ms.max! - all[all.length - 1] / 1000)).toBeLessThanOrEqual(all[all.length - 1] * 1e-6 + 0.001);
  });

  it('gathers the generator saturation reasons of its intervals, once each', () => {
    const reason = 'generator cpu 95% of a core';
    const run = syntheticRun(5, 4, (i) => (i > 0 ? { saturation: [reason] } : {}));
    const got = phaseStats('steady', run.map((s) => s.frame));
    expect(got).toMatchObject({ generator_saturated: true, generator_saturation: [reason] });
    expect(phaseStats('steady', syntheticRun(5, 4).map((s) => s.frame)).generator_saturated).toBe(false);
  });
});

describe('phaseStats: downstream beside the loop', () => {
  /** A loop thread whose timers ran `delayMs` late at every sample, beside the synthetic run's frames. */
  const withLoop = (frames: Frame[], delayMs: number) =>
    frames.map((f) => {
      const h = new ExpHistogram(1e-6, 1e3);
      for (let i = 0; i < 50; i++) h.record(delayMs / 1000);
      const loop = { key: '1/1', pid: 1, tid: 1, name: 'main', role: 'js', cpu_user_ms: 100, cpu_system_ms: 0, voluntary: 0, involuntary: 0, runqueue_wait_ms: 0, eventloop_delay: h.toData(), eventloop_utilization: 0.9, rss_bytes: null };
      return { ...f, contexts: [loop] };
    });

  it('says downstream holds the wait for a busy loop where the loop\'s p99 delay is a tenth of downstream or more', () => {
    const frames = syntheticRun(11, 5).map((s) => s.frame);
    const downstream = phaseStats('p', frames).parts_ms.downstream!;
    expect(phaseStats('p', withLoop(frames, downstream * 0.5)).downstream_includes_loop_wait).toBe(true);
    expect(phaseStats('p', withLoop(frames, downstream * 0.02)).downstream_includes_loop_wait).toBe(false);
    // No loop at all (a thread per request): nothing to say.
    expect(phaseStats('p', frames).downstream_includes_loop_wait).toBe(false);
  });
});

describe('phasesOf', () => {
  it('groups frames by phase in order, joins the drain to the last phase and leaves warm-up out', () => {
    const r = seeded(8);
    const shapes = [{ phase: 'ramp', warmup: true }, { phase: 'ramp' }, { phase: 'ramp' }, { phase: 'steady' }, { phase: 'drain' }, { phase: 'drain' }];
    const frames: Frame[] = shapes.map((s, i) => syntheticInterval(r, i, 20, s).frame);
    const noGenerator: Frame = { ...frames[2], index: 99, generator: null };
    const groups = phasesOf([...frames.slice(0, 3), noGenerator, ...frames.slice(3)]);
    expect(groups.map((g) => [g.name, g.frames.map((f) => f.index)])).toEqual([
      ['ramp', [1, 2]],
      ['steady', [3, 4, 5]],
    ]);
  });

  it('keeps two phases in a row apart when they share a name (the scenario lists them as two)', () => {
    const r = seeded(9);
    const frames = [0, 0, 1, 1].map((phaseIndex, i) => {
      const f = syntheticInterval(r, i, 20, { phase: 'step' }).frame;
      return { ...f, generator: { ...f.generator!, phase_index: phaseIndex } };
    });
    expect(phasesOf(frames).map((g) => [g.name, g.index, g.frames.length])).toEqual([
      ['step', 0, 2],
      ['step', 1, 2],
    ]);
  });
});
