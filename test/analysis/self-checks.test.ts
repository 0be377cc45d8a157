/**
 * Each self-check on synthetic frames: frames that agree with themselves (the check holds), and frames that break
 * exactly what the check is there to catch (it fails). The consistent frames come from a seeded stream of requests
 * whose time in flight is worked out here by overlap with each interval, not by the agent's event accrual.
 */
import { describe, expect, it } from 'vitest';
import { selfChecks, type Check, type CheckId, type ClientView } from '../../src/analysis/self-checks.js';
import { phaseStats } from '../../src/analysis/phase-stats.js';
import { ExpHistogram, STAGES, type ContextInterval, type Frame, type ServerInterval } from '../../src/vocabulary/index.js';
import { seeded } from './synthetic-windows.js';
import { checkLines } from '../../src/report/check-lines.js';
import { syntheticRun } from './synthetic-frames.js';

const INTERVAL_MS = 1000;
const HOST = { cpus: 2, cpu_quota_cores: null };

interface Served {
  startMs: number;
  endMs: number;
}

/** Requests at `rps` (exponential gaps) each lasting `meanMs` (exponential), for `seconds`, from `seed`. */
function requests(seed: number, rps: number, meanMs: number, seconds: number): Served[] {
  const r = seeded(seed);
  const out: Served[] = [];
  for (let t = -Math.log(1 - r()) * (1000 / rps); t < seconds * 1000; t += -Math.log(1 - r()) * (1000 / rps)) {
    out.push({ startMs: t, endMs: t + -Math.log(1 - r()) * meanMs });
  }
  return out;
}

const context = (cpuMs: number): ContextInterval => ({
  key: '1/1', pid: 1, tid: 1, name: 'main', role: 'js', cpu_user_ms: cpuMs, cpu_system_ms: 0, voluntary: 0, involuntary: 0,
  runqueue_wait_ms: 0, eventloop_delay: null, eventloop_utilization: null, rss_bytes: null,
});

/**
 * The frames of `served`: each request counted and timed in the interval it ended, its time in flight split over
 * the intervals it overlapped; `cpuCores` of CPU per interval; each request split into 1/10 on CPU, 1/20 run queue.
 */
function framesOf(served: readonly Served[], seconds: number, cpuCores: number): Frame[] {
  return Array.from({ length: seconds }, (_, index) => {
    const from = index * INTERVAL_MS;
    const to = from + INTERVAL_MS;
    const ended = served.filter((q) => q.endMs >= from && q.endMs < to);
    const duration = new ExpHistogram();
    for (const q of ended) duration.record((q.endMs - q.startMs) / 1000);
    const inFlight = served.reduce((s, q) => s + Math.max(0, Math.min(q.endMs, to) - Math.max(q.startMs, from)), 0);
    const wall = ended.reduce((s, q) => s + (q.endMs - q.startMs), 0);
    const stages = Object.fromEntries(STAGES.map((s) => [s, { sum_ms: 0, requests: ended.length, entries: 0 }])) as ServerInterval['stages'];
    // A connection a request, each waiting a quarter of its time to be accepted from the client's send (the agents'
    // view); the kernel times it from the handshake, the client's 0.05 ms from its connect's end to its send earlier.
    stages.accept_queue = { sum_ms: wall / 4, requests: ended.length, entries: ended.length };
    const server: ServerInterval = {
      requests: ended.length,
      joined: ended.length,
      in_flight_ms: inFlight,
      stages,
      duration: duration.toData(),
      thread_split: { requests: ended.length, on_cpu_ms: wall / 10, runqueue_ms: wall / 20, blocked_ms: wall - wall / 10 - wall / 20, wall_ms: wall },
      dropped: 0,
      agent_errors: 0,
    };
    const accept_wait = { connections: ended.length, sum_ms: wall / 4 + 0.05 * ended.length };
    return { kind: 'frame', run: 0, index, t_ms: from, interval_ms: INTERVAL_MS, phase: 'p', generator: null, server, contexts: [context(cpuCores * INTERVAL_MS)], backend: null, accept_wait };
  });
}

const SECONDS = 10;
const check = (checks: Check[], id: CheckId) => checks.find((c) => c.id === id)!;
const client = (requests: number, over: Partial<ClientView> = {}): ClientView => ({ requests, errors: 0, lateAtEdges: 0, meanMs: 20, unmeasuredMs: 0.2, ...over });

describe('self-checks', () => {
  it('agents_kept_all fails where an agent dropped records, and says how many', () => {
    const frames = framesOf(requests(3, 80, 25, SECONDS), SECONDS, 1.5);
    expect(check(selfChecks(frames, HOST, null), 'agents_kept_all')).toMatchObject({ ok: true, detail: expect.stringContaining('dropped 0 records') });
    frames[4].server!.dropped = 7;
    frames[6].server!.dropped = 5;
    frames[6].server!.agent_errors = 2;
    const c = check(selfChecks(frames, HOST, null), 'agents_kept_all');
    expect(c).toMatchObject({ ok: false, detail: 'the agents dropped 12 records (srvlens.agent.dropped) and caught 2 errors' });
    expect(checkLines([{ name: 'p', checks: [c] }])[0]).toBe('check: p: agents_kept_all FAILED: the agents dropped 12 records (srvlens.agent.dropped) and caught 2 errors');
    // Data an agent sent too late for its frames fails it too, with or without any agent data in the phase.
    const late = framesOf(requests(3, 80, 25, SECONDS), SECONDS, 1.5);
    late[5].agents_late = 3;
    expect(check(selfChecks(late, HOST, null), 'agents_kept_all')).toMatchObject({ ok: false, detail: expect.stringContaining('3 intervals of the agents\' data came after their frames had gone out') });
    const silent = late.map((f) => ({ ...f, server: null }));
    expect(check(selfChecks(silent, HOST, null), 'agents_kept_all')).toMatchObject({ ok: false, detail: expect.stringMatching(/^no agent data in the phase; 3 intervals/) });
    expect(check(selfChecks(silent.map(({ agents_late: _, ...f }) => f), HOST, null), 'agents_kept_all').ok).toBeNull();
  });

  it.each([1, 7, 42])('all hold on frames that agree with themselves (seed %i)', (seed) => {
    const served = requests(seed, 80, 25, SECONDS);
    const frames = framesOf(served, SECONDS, 1.5);
    const counted = frames.reduce((s, f) => s + f.server!.requests, 0);
    const checks = selfChecks(frames, HOST, client(counted));
    expect(checks.map((c) => c.id)).toEqual(['cpu_within_host', 'requests_counted', 'unmeasured_small', 'littles_law', 'thread_split', 'agents_kept_all', 'accept_queue_kernel']);
    for (const c of checks) expect(c.ok, `${c.id}: ${c.detail}`).toBe(true);
  });

  it("accept_queue_kernel fails where the agents' accept queue is not the kernel's, and is not taken without the kernel tracer or the agents' timing", () => {
    const frames = framesOf(requests(5, 80, 25, SECONDS), SECONDS, 1);
    expect(check(selfChecks(frames, HOST, null), 'accept_queue_kernel').ok).toBe(true);
    // The agents missed a fifth of the wait (a queue before the one they time from).
    const short = frames.map((f) => ({ ...f, server: { ...f.server!, stages: { ...f.server!.stages, accept_queue: { ...f.server!.stages.accept_queue, sum_ms: f.server!.stages.accept_queue.sum_ms * 0.8 } } } }));
    const c = check(selfChecks(short, HOST, null), 'accept_queue_kernel');
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/^the agents' [\d.]+ ms a connection against the kernel's [\d.]+ ms \(\d+ connections\)$/);
    expect(check(selfChecks(frames.map(({ accept_wait: _, ...f }) => f), HOST, null), 'accept_queue_kernel')).toMatchObject({ ok: null, detail: expect.stringContaining('did not run') });
    const untimed = frames.map((f) => ({ ...f, server: { ...f.server!, stages: { ...f.server!.stages, accept_queue: { sum_ms: 0, requests: 0, entries: 0 } } } }));
    expect(check(selfChecks(untimed, HOST, null), 'accept_queue_kernel').ok).toBeNull();
    // The kernel's own requests (a server with no agent) are not held against themselves.
    const kernelOnly = frames.map((f) => ({ ...f, server: { ...f.server!, source: 'kernel' as const } }));
    expect(check(selfChecks(kernelOnly, HOST, null), 'accept_queue_kernel').ok).toBeNull();
  });

  it('cpu_within_host fails at more CPU than the host has, and than its cgroup quota allows', () => {
    const frames = framesOf(requests(1, 80, 25, SECONDS), SECONDS, 2.4);
    const c = check(selfChecks(frames, HOST, null), 'cpu_within_host');
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('2.40 cores of the host\'s 2 cores');
    const held = framesOf(requests(1, 80, 25, SECONDS), SECONDS, 1.5);
    expect(check(selfChecks(held, HOST, null), 'cpu_within_host').ok).toBe(true);
    const quota = check(selfChecks(held, { cpus: 2, cpu_quota_cores: 1 }, null), 'cpu_within_host');
    expect(quota.ok).toBe(false);
    expect(quota.detail).toContain('quota of 1.00 cores');
    expect(check(selfChecks(held, null, null), 'cpu_within_host').ok).toBeNull();
  });

  it('requests_counted fails when the agents lost requests the client got, and is not taken where the client saw errors; allows for the answers a late generator read across the phase\'s edges', () => {
    const frames = framesOf(requests(7, 80, 25, SECONDS), SECONDS, 1);
    const counted = frames.reduce((s, f) => s + f.server!.requests, 0);
    expect(check(selfChecks(frames, HOST, client(counted + 1)), 'requests_counted').ok).toBe(true); // 1 across a boundary
    const lost = check(selfChecks(frames, HOST, client(Math.round(counted * 1.3))), 'requests_counted');
    expect(lost.ok).toBe(false);
    expect(lost.detail).toContain(`the agents counted ${counted} requests`);
    expect(check(selfChecks(frames, HOST, client(counted * 2, { errors: 3 })), 'requests_counted').ok).toBeNull();
    // A generator late at the phase's edges may have read that many answers in the next phase.
    const base = Math.ceil((counted + 40) * 0.02);
    const lateAllowed = check(selfChecks(frames, HOST, client(counted + base + 40, { lateAtEdges: 40.2 })), 'requests_counted');
    expect(lateAllowed.ok).toBe(true);
    expect(lateAllowed.detail).toContain('40 of them for the generator\'s lateness');
    expect(check(selfChecks(frames, HOST, client(counted + base + 45, { lateAtEdges: 40.2 })), 'requests_counted').ok).toBe(false);
  });

  it('requests_counted allows for a late generator only at the phase\'s edges, at the edge interval\'s rate', () => {
    const lagged = (at: number) => syntheticRun(42, 6).map((s, i) => (i === at ? { ...s.frame, generator: { ...s.frame.generator!, loop_lag_max_ms: 250 } } : s.frame));
    // A stall mid-phase delays reads within the phase: no allowance.
    expect(check(phaseStats('p', lagged(2)).checks, 'requests_counted').detail).not.toContain('lateness');
    // At the last interval, a quarter of its answers (250 of its 1000 ms) may have been read in the next phase.
    const last = lagged(5);
    const expected = Math.round((last[5].generator!.completed * 250 + last[0].generator!.completed * 2) / 1000);
    expect(check(phaseStats('p', last).checks, 'requests_counted').detail).toContain(`${expected} of them for the generator's lateness`);
  });

  it('unmeasured_small fails where a stage went unmarked, through the phase figures', () => {
    const whole = syntheticRun(42, 6).map((s) => s.frame);
    expect(check(phaseStats('p', whole).checks, 'unmeasured_small').ok).toBe(true);
    // The agent never saw the downstream stage, and no interval's two sides match (network is then not measured,
    // so it cannot absorb the gap): the stage's time is left in unmeasured.
    const gap = syntheticRun(42, 6, () => ({ missed: 5 })).map((s) => s.frame);
    for (const f of gap) f.server!.stages.downstream = { sum_ms: 0, requests: f.server!.joined, entries: 0 };
    const c = check(phaseStats('p', gap).checks, 'unmeasured_small');
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/^unmeasured \d/);
    // The client gave up on a tenth of what it sent: the gap is between two sets of requests, so it is not taken,
    // and the phase shows no unmeasured or coverage; one error in a hundred answers keeps both (within 2 %).
    const abandoned = syntheticRun(42, 6).map((s) => s.frame);
    for (const f of abandoned) f.generator!.errors = Math.ceil(f.generator!.completed / 9);
    const stats = phaseStats('p', abandoned);
    expect(stats.parts_ms.unmeasured).toBeNull();
    expect(stats.coverage).toBeNull();
    const notTaken = check(stats.checks, 'unmeasured_small');
    expect(notTaken.ok).toBeNull();
    expect(notTaken.detail).toMatch(/^the client gave up on \d+ of \d+ requests/);
    const fewErrors = syntheticRun(42, 6).map((s) => s.frame);
    fewErrors[0].generator!.errors = 1;
    const kept = phaseStats('p', fewErrors);
    expect(kept.parts_ms.unmeasured).not.toBeNull();
    expect(check(kept.checks, 'unmeasured_small').ok).toBe(true);
  });

  it('littles_law fails when requests are counted but not timed, or timed in the wrong unit, and holds across seeds when not', () => {
    for (const seed of [3, 5, 8]) {
      const frames = framesOf(requests(seed, 120, 40, SECONDS), SECONDS, 1);
      expect(check(selfChecks(frames, HOST, null), 'littles_law').ok, `seed ${seed}`).toBe(true);
    }
    // A third of the requests reach the count but neither the time in flight nor the histogram (no slot).
    const dropped = framesOf(requests(3, 120, 40, SECONDS), SECONDS, 1);
    for (const f of dropped) f.server!.requests = Math.round(f.server!.requests * 1.5);
    const c = check(selfChecks(dropped, HOST, null), 'littles_law');
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/^mean in flight L = \d/);
    // Durations in ms where the histogram holds seconds: W off by 1000.
    const units = framesOf(requests(3, 120, 40, SECONDS), SECONDS, 1);
    for (const f of units) f.server!.duration = { ...f.server!.duration, sum: f.server!.duration.sum * 1000 };
    expect(check(selfChecks(units, HOST, null), 'littles_law').ok).toBe(false);
    // Frames from before the agents recorded time in flight: not taken, and not failed.
    for (const f of units) delete f.server!.in_flight_ms;
    expect(check(selfChecks(units, HOST, null), 'littles_law')).toMatchObject({ ok: null, detail: expect.stringContaining('did not record') });
  });

  it('thread_split fails where schedstat claims more on CPU and run queue than the requests lasted', () => {
    const frames = framesOf(requests(9, 50, 30, SECONDS), SECONDS, 1);
    expect(check(selfChecks(frames, HOST, null), 'thread_split').ok).toBe(true);
    for (const f of frames) {
      const s = f.server!.thread_split!;
      // Another thread's counters: on CPU for 1.5 times the wall time; blocked, the clamped rest, is 0.
      s.on_cpu_ms = s.wall_ms! * 1.5;
      s.blocked_ms = 0;
    }
    const c = check(selfChecks(frames, HOST, null), 'thread_split');
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('requests split');
  });

  it('shows a failed check as a check: line under the phase, and counts what held and what was not taken', () => {
    const hot = framesOf(requests(1, 80, 25, SECONDS), SECONDS, 2.4);
    const lines = checkLines([{ name: 'r400', checks: selfChecks(hot, HOST, null) }]);
    expect(lines[0]).toMatch(/^check: r400: cpu_within_host FAILED: 2\.40 cores of the host's 2 cores/);
    expect(lines[lines.length - 1]).toBe('checks: 4 held, 1 failed, 2 not taken (--format json says why)');
  });
});
