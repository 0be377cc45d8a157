/**
 * The two sources of frames (a recording read by offsets, live ring buffers) and the snapshot built from them:
 * the same frames and figures either way, bounded memory live, and a damaged recording read up to its damage.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Frame, RunStart } from '../../src/vocabulary/index.js';
import { runPhases } from '../../src/analysis/phase-stats.js';
import { RecordingError } from '../../src/recording/errors.js';
import { RecordingIndex } from '../../dashboard/state/recording-index.js';
import { LiveFrameStore } from '../../dashboard/state/frame-store.js';
import { RingBuffer } from '../../dashboard/state/ring-buffer.js';
import { SnapshotBuilder } from '../../dashboard/state/snapshot.js';
import { comparePanel } from '../../dashboard/panels/compare.js';
import { phasePanel } from '../../dashboard/panels/phase.js';
import { CHART_WINDOW, PHASE_WINDOW } from '../../dashboard/state/windows.js';
import { THREE_LOOPS, cutCopy, recorded } from './fixtures.js';

let runs: RunStart[];
let frames: Frame[];
const ownFrames = (run: number) => frames.filter((f) => f.run === run);

beforeAll(async () => {
  ({ runs, frames } = await recorded());
});

describe('RecordingIndex', () => {
  it('finds every run and frame, and reads any range of frames back from their offsets', async () => {
    const index = await RecordingIndex.open(THREE_LOOPS);
    try {
      expect(index).toMatchObject({ scenario: 'three-loops', intervalMs: 500, damage: null });
      expect(index.plan).toEqual([{ name: 'warm', duration_s: 3 }, { name: 'busy', duration_s: 3 }]);
      expect(index.runs().map((r) => [r.start.server, r.frames, r.ended?.ok])).toEqual(runs.map((r) => [r.server, ownFrames(r.run).length, true]));
      for (const r of runs) expect(await index.frames(r.run, 0, 1000)).toEqual(ownFrames(r.run));
      expect(await index.frames(1, 3, 6)).toEqual(ownFrames(1).slice(3, 6));
      expect(await index.frames(1, -5, 2)).toEqual(ownFrames(1).slice(0, 2));
    } finally {
      await index.close();
    }
  });

  it('splits each run into its phases, the drain with the phase before it', async () => {
    const index = await RecordingIndex.open(THREE_LOOPS);
    await index.close();
    for (const info of index.runs()) {
      const own = ownFrames(info.start.run);
      expect(info.spans.map((s) => [s.name, s.index])).toEqual([['warm', 0], ['busy', 1]]);
      expect(info.spans[1].to).toBe(own.length);
      expect(own.slice(info.spans[0].from, info.spans[0].to).every((f) => f.generator?.phase === 'warm')).toBe(true);
    }
  });

  it('reads a damaged recording up to the damage and says where it stops', async () => {
    const index = await RecordingIndex.open(cutCopy(300));
    try {
      expect(index.damage).toMatch(/cut short at byte \d+/);
      const read = index.runs();
      expect(read).toHaveLength(3);
      expect(read[2].ended).toBeNull();
      expect(read[2].frames).toBeLessThan(ownFrames(2).length);
      expect(await index.frames(2, 0, 1000)).toEqual(ownFrames(2).slice(0, read[2].frames));
    } finally {
      await index.close();
    }
  });

  it('rejects a file that is no recording, as the report does', async () => {
    const path = join(tmpdir(), `not-a-recording-${process.pid}.gz`);
    writeFileSync(path, 'hello');
    await expect(RecordingIndex.open(path)).rejects.toBeInstanceOf(RecordingError);
  });
});

describe('LiveFrameStore', () => {
  /** An hour of one run: the fixture's frames over and over, renumbered, in two phases of 30 min. */
  function feedHour(store: LiveFrameStore, run: RunStart): Frame[] {
    const base = ownFrames(run.run).filter((f) => f.generator && f.generator.phase !== 'drain');
    const fed: Frame[] = [];
    for (let i = 0; i < 3600; i++) {
      const phase = i < 1800 ? 0 : 1;
      const f = { ...base[i % base.length], index: i, generator: { ...base[i % base.length].generator!, phase: phase ? 'busy' : 'warm', phase_index: phase } };
      store.push(f, run);
      fed.push(f);
    }
    return fed;
  }

  it('holds a bounded number of frames however long the run, the newest ones and each phase window', async () => {
    const store = new LiveFrameStore('three-loops', 500, null, runs.map((r) => ({ name: r.server, model: r.model, size: r.size })));
    const fed = feedHour(store, runs[0]);
    expect(store.held()[0]).toBeLessThanOrEqual(CHART_WINDOW + 2 * PHASE_WINDOW);
    const held = await store.frames(0, 0, fed.length);
    expect(held.slice(-CHART_WINDOW)).toEqual(fed.slice(-CHART_WINDOW));
    // The first phase's last window is kept after the run moved on: Compare needs it.
    expect(await store.frames(0, 1800 - PHASE_WINDOW, 1800)).toEqual(fed.slice(1800 - PHASE_WINDOW, 1800));
    expect(await store.frames(0, 0, 10)).toEqual([]);
  });

  it('lists the servers not run yet, and ends a run when the next starts', () => {
    const store = new LiveFrameStore('three-loops', 500, null, runs.map((r) => ({ name: r.server, model: r.model, size: r.size })));
    for (const f of ownFrames(0)) store.push(f, runs[0]);
    expect(store.runs().map((r) => [r.start.server, r.frames > 0, r.ended])).toEqual([['lean', true, null], ['cpu-heavy', false, null], ['chatty', false, null]]);
    store.push(ownFrames(1)[0], runs[1]);
    expect(store.runs()[0].ended).toEqual({ ok: true, error: null });
  });
});

describe('snapshots', () => {
  it('figures a phase at its last interval exactly as `srvlens report` does', async () => {
    const index = await RecordingIndex.open(THREE_LOOPS);
    try {
      const builder = new SnapshotBuilder(index);
      for (const [i, info] of index.runs().entries()) {
        // With the recording's host, as the report takes it (for the CPU check).
        const report = runPhases(runs[i], frames, index.host).phases;
        for (const [k, span] of info.spans.entries()) {
          const s = (await builder.build({ run: i, pos: span.to - 1 }, {}))!;
          expect(s.window).toMatchObject({ from: span.from, to: span.to, partial: false });
          expect(s.phase).toEqual(report[k]);
        }
      }
    } finally {
      await index.close();
    }
  });

  it('compares every server at the cursor phase: the cursor one so far, the others whole', async () => {
    const index = await RecordingIndex.open(THREE_LOOPS);
    try {
      const info = index.runs()[1];
      const pos = info.spans[1].from + 2;
      const s = (await new SnapshotBuilder(index).build({ run: 1, pos }, { compare: true }))!;
      const d = comparePanel(s.compare!, 1);
      expect(d.phase).toBe('busy');
      expect(d.rows.map((r) => [r.server, r.current, r.partial, r.intervals])).toEqual([
        ['lean', false, false, index.runs()[0].spans[1].to - index.runs()[0].spans[1].from],
        ['cpu-heavy', true, true, 3],
        ['chatty', false, false, index.runs()[2].spans[1].to - index.runs()[2].spans[1].from],
      ]);
      expect(d.rows[0].p99_ms).toBe(runPhases(runs[0], frames).phases[1].latency_ms.p99);
      const bars = d.rows.map((r) => r.parts.reduce((t, p) => t + Math.max(0, p.ms ?? 0), 0));
      expect(d.scale_ms).toBe(Math.max(...bars));
      const p = phasePanel(s);
      expect(p).toMatchObject({ server: 'cpu-heavy', run_number: 2, runs: 3, phase: 'busy', phase_number: 2, phases: 2, planned_s: 3, in_phase_s: 1.5, draining: false });
    } finally {
      await index.close();
    }
  });

  it('live, says which servers have not run yet', async () => {
    const store = new LiveFrameStore('three-loops', 500, null, runs.map((r) => ({ name: r.server, model: r.model, size: r.size })));
    for (const f of ownFrames(0).slice(0, 9)) store.push(f, runs[0]);
    const s = (await new SnapshotBuilder(store).build({ run: 0, pos: 8 }, { compare: true }))!;
    const d = comparePanel(s.compare!, 0);
    expect(d.rows.map((r) => [r.server, r.missing])).toEqual([['lean', null], ['cpu-heavy', 'not run yet'], ['chatty', 'not run yet']]);
    expect(d.rows[0].partial).toBe(true);
  });
});

describe('RingBuffer', () => {
  it('keeps the last items by number', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 0; i < 5; i++) ring.push(i * 10);
    expect([ring.count, ring.first, ring.at(1), ring.at(2), ring.at(4), ring.at(5)]).toEqual([5, 2, undefined, 20, 40, undefined]);
    expect(ring.slice(0, 10)).toEqual([20, 30, 40]);
  });
});
