/**
 * The live store that the dashboard's pictures are measured on (bench/dashboard-render.ts) and pinned by
 * (test/dashboard/screens.test.ts): the tour's nine servers, each through its five steps (r25..r400), the last
 * one then held at r400 in a phase of its own for `history` intervals, so that every server has five finished
 * phases and the one running has a long series behind it. One home, so that the test pins what the bench times.
 */
import type { Frame, RunStart } from '../../src/vocabulary/index.js';
import { readRecording } from '../../src/recording/reader.js';
import { LiveFrameStore } from '../../dashboard/state/frame-store.js';
import { SnapshotBuilder } from '../../dashboard/state/snapshot.js';

export interface TourPictures {
  starts: RunStart[];
  /** The i-th interval of a run, as a new object (as the runner hands frames over), renumbered. */
  frameAt(run: number, i: number): Frame;
  /** A store with every server but the last whole, and the last one's first `history` intervals. */
  storeWith(history: number): Promise<{ store: LiveFrameStore; builder: SnapshotBuilder; last: RunStart }>;
}

export async function tourPictures(path: string): Promise<TourPictures> {
  const { header, records } = await readRecording(path);
  // The recording's host, not this one: what the views say of the CPU (headroom, self-checks) is then the same here
  // as on any machine that runs the test.
  const host = header ? { cpus: header.host.cpus, cpu_quota_cores: header.host.cpu_quota_cores } : undefined;
  const starts = records.filter((r): r is RunStart => r.kind === 'run-start');
  const own = starts.map((st) => records.filter((r): r is Frame => r.kind === 'frame' && r.run === st.run));

  function frameAt(run: number, i: number): Frame {
    const steps = own[run].length;
    const src = own[run][i < steps ? i : steps - 5 + ((i - steps) % 5)];
    const f = JSON.parse(JSON.stringify(src)) as Frame;
    const held = i >= steps && f.generator;
    return { ...f, run, index: i, t_ms: i * f.interval_ms, generator: held ? { ...f.generator!, phase: 'hold', phase_index: 5 } : f.generator };
  }

  async function storeWith(history: number) {
    const store = new LiveFrameStore('tour', 1000, null, starts.map((st) => ({ name: st.server, model: st.model, size: st.size })), { slo: { p99_ms: 100, max_error_rate: 0.01 }, host });
    for (const st of starts.slice(0, -1)) for (let i = 0; i < own[st.run].length; i++) store.push(frameAt(st.run, i), st);
    const last = starts[starts.length - 1];
    const builder = new SnapshotBuilder(store);
    // A render every 100 intervals while the history builds up, so that the series keeps every interval (live, the
    // store forgets frames CHART_WINDOW intervals old, and a render takes each new one into the series).
    for (let i = 0; i < history; i++) {
      store.push(frameAt(last.run, i), last);
      if (i % 100 === 99) await builder.build({ run: last.run, pos: i }, { series: true });
    }
    return { store, builder, last };
  }

  return { starts, frameAt, storeWith };
}
