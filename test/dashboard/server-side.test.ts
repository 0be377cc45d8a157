/**
 * The dashboard without a load generator, from its parts: the runs `srvlens dashboard` makes of the services that
 * report (collect/service-runs.ts, on a clock the test turns), and the views over frames that only agents measured,
 * or only /proc, drawn into a fake terminal: what a client alone can measure is said to be absent, never 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceRuns, type ServiceRunEvents } from '../../src/collect/service-runs.js';
import { emptyContext, type AgentInterval } from '../../src/collect/otlp-json.js';
import type { Frame, RecordingRecord, RunStart } from '../../src/vocabulary/index.js';
import { startLiveServersDashboard } from '../../dashboard/live-servers.js';
import { serverStats } from '../../src/analysis/server-stats.js';
import { fmtMs } from '../../dashboard/widgets/format.js';
import { fakeTerminal, until } from './fake-terminal.js';
import { recorded, variant } from './fixtures.js';

const agent = (service: string, pid: number, index: number, requests = 10): AgentInterval => {
  const c = { ...emptyContext(pid, 'main', 'js'), requests };
  return { pid, service, model: 'event-loop', role: 'server', index, contexts: [c], process: c, rss_bytes: null, dropped: 0, agent_errors: 0 };
};

function runsOnClock(intervalMs = 1000) {
  let now = 100;
  const out: RecordingRecord[] = [];
  const warnings: string[] = [];
  const events: ServiceRunEvents = {
    runStart: (s) => out.push(s),
    runEnd: (e) => out.push(e),
    warn: (w) => warnings.push(w),
  };
  const runs = new ServiceRuns(intervalMs, events, () => now);
  runs.pipe((f) => out.push(f));
  return {
    runs,
    out,
    warnings,
    /** Interval `index` is over; the agents' reports of it come first. */
    step(index: number, reports: AgentInterval[]) {
      now = index + 1;
      runs.add(reports);
      runs.tick(index);
    },
    frames: (run: number) => out.filter((r): r is Frame => r.kind === 'frame' && r.run === run).map((f) => [f.index, f.server?.requests ?? null]),
  };
}

describe('the runs of srvlens dashboard', () => {
  it('makes each service a run of its own, side by side, its frames on the clock LAG intervals behind', () => {
    const c = runsOnClock();
    c.step(100, [agent('api', 1, 100)]);
    c.step(101, [agent('api', 1, 101), agent('web', 2, 101, 3)]);
    c.step(102, [agent('api', 1, 102), agent('web', 2, 102, 3)]);
    c.step(103, [agent('api', 1, 103), agent('web', 2, 103, 3)]);
    expect(c.out.filter((r) => r.kind === 'run-start').map((r) => [(r as RunStart).run, (r as RunStart).server])).toEqual([[0, 'api'], [1, 'web']]);
    expect(c.frames(0)).toEqual([[100, 10], [101, 10]]);
    expect(c.frames(1)).toEqual([[101, 3]]);
    c.runs.finish();
    expect(c.frames(0)).toEqual([[100, 10], [101, 10], [102, 10], [103, 10]]);
    expect(c.out.filter((r) => r.kind === 'run-end').map((r) => (r as { run: number }).run)).toEqual([0, 1]);
    // Each run's last frame before its end.
    const last = c.out.map((r, i) => (r.kind === 'frame' && r.run === 1 ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(last).toBeLessThan(c.out.findIndex((r) => r.kind === 'run-end' && r.run === 1));
  });

  it('merges every process of a service into its frames, and waits for a process that fell behind', () => {
    const c = runsOnClock();
    c.step(100, [agent('api', 1, 100), agent('api', 2, 100)]);
    // Process 2 stalls for two intervals, then catches up at once.
    c.step(101, [agent('api', 1, 101)]);
    c.step(102, [agent('api', 1, 102)]);
    c.step(103, [agent('api', 1, 103)]);
    expect(c.frames(0)).toEqual([[100, 20]]);
    c.step(104, [agent('api', 1, 104), agent('api', 2, 101), agent('api', 2, 102), agent('api', 2, 103), agent('api', 2, 104)]);
    expect(c.frames(0)).toEqual([[100, 20], [101, 20], [102, 20]]);
  });

  it('makes no frames of silence: a service gone quiet ends its run at its last report, and comes back as a new run', () => {
    const c = runsOnClock(1000);
    c.step(100, [agent('api', 1, 100)]);
    c.step(101, [agent('api', 1, 101)]);
    for (let i = 102; i <= 116; i++) c.step(i, []);
    expect(c.out.some((r) => r.kind === 'run-end')).toBe(false);
    // Over 15 s of silence at 1 s intervals: gone, with frames up to its last report and none for the silence.
    c.step(117, []);
    expect(c.frames(0)).toEqual([[100, 10], [101, 10]]);
    expect(c.out[c.out.length - 1]).toMatchObject({ kind: 'run-end', run: 0, ok: true });
    c.step(118, [agent('api', 3, 118)]);
    expect(c.out[c.out.length - 1]).toMatchObject({ kind: 'run-start', run: 1, server: 'api' });
  });

  it('leaves out data on another interval grid, and says once how to fix it', () => {
    const c = runsOnClock(1000);
    // An agent on 200 ms intervals numbers them five times higher than ours.
    c.step(100, [agent('fast', 7, 500)]);
    c.step(101, [agent('fast', 7, 505)]);
    expect(c.out).toEqual([]);
    expect(c.warnings).toEqual(['service fast (PID 7) reports intervals off this collector\'s 1000 ms grid and they are left out: start it with SRVLENS_INTERVAL_MS=1000']);
  });
});

describe('the views without a load generator', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const f of cleanup.splice(0)) f();
  });

  async function live(frames: Frame[], start: RunStart, finding?: { model: string; evidence: string[] }) {
    const term = fakeTerminal(80, 24);
    const view = startLiveServersDashboard('test source', frames[0].interval_ms, term.screen);
    cleanup.push(() => view.close());
    view.start(start);
    for (const f of frames) view.frame(f, start);
    if (finding) view.detect(start.run, finding);
    await until(() => term.text().includes(`interval ${frames.length}/${frames.length}`), 'the last frame');
    return term.text();
  }

  it('shows what the agents measured, and says what only a client could (at 80x24)', async () => {
    const { runs, frames } = await recorded();
    // The fixture's frames as `srvlens dashboard` makes them: no generator, no phase.
    const own = frames.filter((f) => f.run === 0).map((f) => variant(f, (v) => Object.assign(v, { generator: null, phase: null, backend: null })));
    const text = await live(own, { ...runs[0], model: 'unknown' });
    expect(text).toMatch(/lean \(unknown\) 1\/1 +no generator: server side only/);
    expect(text).toContain('offered  no load generator');
    const stats = serverStats(own.slice(-10));
    expect(text).toContain(`where the server's time goes: last 5 s, mean ${fmtMs(stats.time_ms!.mean)}`);
    expect(text).toMatch(/served +[\d.]+ req\/s +\d+ req\/s/);
    expect(text).toMatch(/p99 +[\d.]+ ms +[\d.]+ ms/);
    expect(text).toMatch(/c process [\d.]+ ms/);
    // The client's parts and failures are not measured: '-', never 0.
    expect(text).toMatch(/w send_wait -/);
    expect(text).toMatch(/n network -/);
    expect(text).toContain('failed req: -');
    expect(text).not.toMatch(/failed 0 req/);
    expect(text.split('\n').every((l) => l.length === 80)).toBe(true);
  });

  it('from /proc alone: the CPU, the contexts and the model with its evidence; requests and latency absent', async () => {
    const { runs, frames } = await recorded();
    const own = frames
      .filter((f) => f.run === 0)
      .map((f) => variant(f, (v) => Object.assign(v, { generator: null, phase: null, backend: null, server: null, accept_queue: { length_max: 3, length_mean: 1.5, samples: 4 } })));
    const finding = { model: 'iterative', confidence: 'high' as const, evidence: ['PID 42 has 1 thread', 'at most 1 connection was open at a time, while up to 3 waited in the accept queue'] };
    const text = await live(own, { ...runs[0], server: 'PID 42 (python3)' }, finding);
    expect(text).toMatch(/PID 42 \(python3\) \(iterative\) 1\/1 +\/proc: no requests seen/);
    expect(text).toContain('latency: not seen from /proc');
    expect(text).toContain('looks like: iterative (high confidence)');
    expect(text).toContain('- at most 1 connection was open at a time, while up to 3 waited in the accept');
    expect(text).toMatch(/CPU +[\d.]+ % +[\d.]+ %/);
    expect(text).toMatch(/accept q length +3 conn/);
    expect(text).toMatch(/vol +[\d.]+\/s/);
    expect(text).not.toContain('no event loop');
    expect(text.split('\n').every((l) => l.length === 80)).toBe(true);
  });
});
