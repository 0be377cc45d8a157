/** Panel functions on recorded frames: each figure a panel shows is the one the report computes for the same frames. */
import { beforeAll, describe, expect, it } from 'vitest';
import { PART_NAMES, STAGES, type Frame, type RunStart } from '../../src/vocabulary/index.js';
import { phaseStats, runPhases } from '../../src/analysis/phase-stats.js';
import { summariseHdr } from '../../src/vocabulary/hdr.js';
import { throughputPanel } from '../../dashboard/panels/throughput.js';
import { latencyPanel } from '../../dashboard/panels/latency.js';
import { decompositionPanel } from '../../dashboard/panels/decomposition.js';
import { contextsPanel } from '../../dashboard/panels/contexts.js';
import { contextSwitchesPanel } from '../../dashboard/panels/context-switches.js';
import { eventLoopPanel } from '../../dashboard/panels/event-loop.js';
import { queuesPanel } from '../../dashboard/panels/queues.js';
import { errorsPanel } from '../../dashboard/panels/errors.js';
import { intervalStats } from '../../dashboard/panels/input.js';
import type { RunInfo } from '../../dashboard/state/timeline.js';
import { recorded, variant } from './fixtures.js';

let runs: RunStart[];
let frames: Frame[];
/** The frames of one run's phase, drain included, as phasesOf groups them. */
const phaseFrames = (run: number, phase: string) => {
  const own = frames.filter((f) => f.run === run);
  const first = own.findIndex((f) => f.generator?.phase === phase);
  let end = first;
  while (end < own.length && (own[end].generator?.phase === phase || own[end].generator?.phase === 'drain')) end++;
  return own.slice(first, end);
};
const input = (fs: Frame[]) => ({ frames: fs, phase: phaseStats('p', fs) });
const ended = (start: RunStart, ok = true, error: string | null = null): RunInfo => ({ start, frames: 1, spans: [], clock: [0], ended: { ok, error } });

beforeAll(async () => {
  ({ runs, frames } = await recorded());
});

describe('the fixture', () => {
  it('has what the panels are tested on: three servers, two phases, saturated intervals, queueing in cpu-heavy', () => {
    expect(runs.map((r) => r.server)).toEqual(['lean', 'cpu-heavy', 'chatty']);
    expect(runPhases(runs[0], frames).phases.map((p) => p.name)).toEqual(['warm', 'busy']);
    expect(frames.some((f) => f.generator?.saturated)).toBe(true);
    expect(runPhases(runs[1], frames).phases[1].parts_ms.server_queue).toBeGreaterThan(5);
  });
});

describe('throughput', () => {
  it('shows offered and achieved per interval and for the phase, as the report computes them', () => {
    const fs = phaseFrames(1, 'busy');
    const d = throughputPanel(input(fs));
    const sent = fs.filter((f) => f.generator?.phase === 'busy');
    expect(d.offered.slice(0, sent.length)).toEqual(sent.map((f) => f.generator!.due / (f.interval_ms / 1000)));
    expect(d.achieved.slice(0, sent.length)).toEqual(sent.map((f) => f.generator!.completed / (f.interval_ms / 1000)));
    expect(d.phase_offered_rps).toBe(runPhases(runs[1], frames).phases[1].offered_rps);
    expect(d.phase_achieved_rps).toBe(runPhases(runs[1], frames).phases[1].achieved_rps);
  });

  it('flags a phase whose achieved rate falls short of the offered one', () => {
    const fs = phaseFrames(0, 'busy');
    expect(throughputPanel(input(fs)).shortfall).toBe(false);
    const halved = fs.map((f) => variant(f, (v) => v.generator && (v.generator.completed = Math.floor(v.generator.completed / 2))));
    expect(throughputPanel(input(halved)).shortfall).toBe(true);
  });
});

describe('latency', () => {
  it('gives each interval its own p50 and p99 from its corrected histogram', () => {
    const fs = phaseFrames(2, 'busy').filter((f) => f.generator?.completed);
    const d = latencyPanel(input(fs));
    const exact = fs.map((f) => summariseHdr([f.generator!.latency_hdr])!);
    expect(d.p99).toEqual(exact.map((e) => Number((e.p99_us / 1000).toFixed(3))));
    expect(d.p50).toEqual(exact.map((e) => Number((e.p50_us / 1000).toFixed(3))));
    expect(d.p99_ms).toBe(d.p99[d.p99.length - 1]);
  });

  it('marks the intervals in which the generator could not keep up, and says why for the current one', () => {
    const fs = frames.filter((f) => f.run === 2);
    const d = latencyPanel(input(fs));
    expect(d.saturated).toEqual(fs.map((f) => f.generator?.saturated === true));
    expect(d.saturated_intervals).toBeGreaterThan(0);
    const last = fs.length - 1;
    const marked = [...fs.slice(0, last), variant(fs[last], (f) => Object.assign(f.generator!, { saturated: true, saturation: ['generator cpu 97% of a core'] }))];
    expect(latencyPanel(input(marked)).reasons).toEqual(['generator cpu 97% of a core']);
  });
});

describe('where the time goes', () => {
  it('lists every part in order with the phase means, and a part never measured as null, not 0', () => {
    const fs = phaseFrames(1, 'busy');
    const stats = phaseStats('busy', fs);
    const d = decompositionPanel(stats);
    expect(d.parts.map((p) => p.part)).toEqual([...PART_NAMES]);
    expect(d.parts.find((p) => p.part === 'server_queue')!.ms).toBe(stats.parts_ms.server_queue);
    expect(d.mean_ms).toBe(stats.latency_ms.mean);
    const unmarked = fs.map((f) => variant(f, (v) => v.server && (v.server.stages.parse = { sum_ms: 0, requests: v.server.requests, entries: 0 })));
    const without = decompositionPanel(phaseStats('busy', unmarked));
    expect(without.parts.find((p) => p.part === 'parse')!.ms).toBeNull();
    expect(STAGES).toContain('parse');
  });
});

describe('contexts', () => {
  it('splits each context into CPU, run-queue and blocked shares of the interval, busiest first', () => {
    const f = frames.filter((x) => x.run === 1)[6];
    const d = contextsPanel({ frames: [f], phase: null });
    expect(d.rows).toHaveLength(f.contexts.length);
    for (const row of d.rows) {
      const c = f.contexts.find((x) => x.key === row.key)!;
      expect(row.cpu_share).toBeCloseTo((c.cpu_user_ms + c.cpu_system_ms) / f.interval_ms, 9);
      expect(row.runq_share).toBeCloseTo(c.runqueue_wait_ms! / f.interval_ms, 9);
      expect(row.blocked_share).toBeCloseTo(Math.max(0, 1 - row.cpu_share - row.runq_share!), 9);
    }
    expect(d.rows.map((r) => r.cpu_share)).toEqual([...d.rows.map((r) => r.cpu_share)].sort((a, b) => b - a));
  });

  it('leaves blocked out where it is no share (several threads busier than the interval) or unknown', () => {
    const f = variant(frames[3], (v) => {
      Object.assign(v.contexts[0], { cpu_user_ms: v.interval_ms * 0.9, cpu_system_ms: 0, runqueue_wait_ms: v.interval_ms * 0.4 });
      v.contexts[1].runqueue_wait_ms = null;
    });
    const rows = contextsPanel({ frames: [f], phase: null }).rows;
    expect(rows.find((r) => r.key === f.contexts[0].key)!.blocked_share).toBeNull();
    // A saturated single thread whose counters were read a little off the boundaries: busy all along, blocked 0.
    const busy = variant(frames[3], (v) => Object.assign(v.contexts[0], { cpu_user_ms: v.interval_ms * 0.69, cpu_system_ms: 0, runqueue_wait_ms: v.interval_ms * 0.33 }));
    expect(contextsPanel({ frames: [busy], phase: null }).rows.find((r) => r.key === busy.contexts[0].key)!.blocked_share).toBe(0);
    expect(rows.find((r) => r.key === f.contexts[1].key)!).toMatchObject({ runq_share: null, blocked_share: null });
  });
});

describe('costs per request', () => {
  it('context switches per request now and over the phase', () => {
    const fs = phaseFrames(0, 'warm');
    const d = contextSwitchesPanel(input(fs));
    expect(d.phase).toEqual(phaseStats('p', fs).context_switches_per_request);
    expect(d.now).toEqual(intervalStats(fs[fs.length - 1]).context_switches_per_request);
    expect(d.phase!.voluntary).toBeGreaterThan(0);
  });

  it('event-loop delay and utilization, and says so when the model has no loop', () => {
    const fs = phaseFrames(1, 'busy');
    const d = eventLoopPanel(input(fs));
    expect(d.has_loop).toBe(true);
    expect(d.phase!.p99_ms).toBe(phaseStats('p', fs).eventloop_delay_ms!.p99);
    expect(d.phase!.utilization).toBeGreaterThan(0.5);
    const loopless = fs.map((f) => variant(f, (v) => v.contexts.forEach((c) => Object.assign(c, { eventloop_delay: null, eventloop_utilization: null }))));
    expect(eventLoopPanel(input(loopless))).toEqual({ has_loop: false, now: null, phase: null });
  });
});

describe('queues', () => {
  it('shows the queue parts of the phase and the backend and client queues of the interval', () => {
    const fs = phaseFrames(1, 'busy');
    const d = queuesPanel(input(fs));
    const last = fs[fs.length - 1];
    expect(d.server_queue_ms).toBe(phaseStats('p', fs).parts_ms.server_queue);
    expect(d.backend).toMatchObject({ queue_max: last.backend!.queue_max, limit: 64 });
    expect(d.client).toEqual({ backlog: last.generator!.backlog, in_flight: last.generator!.in_flight, connections: last.generator!.connections });
    // Frames do not carry the listening socket's queue length: "not recorded", not "empty".
    expect(d.accept_queue_length).toBeNull();
  });
});

describe('errors', () => {
  it('counts failed requests over the phase with their share, agent drops, and a failed run', () => {
    const fs = phaseFrames(0, 'busy');
    expect(errorsPanel(input(fs), ended(runs[0]))).toMatchObject({ phase: 0, phase_share: 0, run_error: null });
    const failing = fs.map((f, i) => variant(f, (v) => i === 1 && v.generator && v.server && ((v.generator.errors = 7), (v.server.dropped = 2))));
    const stats = phaseStats('busy', failing);
    const d = errorsPanel({ frames: failing, phase: stats }, ended(runs[0], false, 'server lean died during the run'));
    expect(d.phase).toBe(7);
    expect(d.phase_share).toBeCloseTo(7 / (stats.requests + 7), 9);
    expect(d.agent_dropped).toBe(2);
    expect(d.run_error).toBe('server lean died during the run');
  });
});
