/**
 * What the dashboard costs, measured, never asserted (bench/README.md): the time to draw one interval for eight
 * servers, and the live store's memory after an hour of frames against after a minute.
 *
 *   npm run build && node --expose-gc dist/bench/dashboard-render.js [--renders 200]
 *
 * Frames are the recorded fixture's (test/dashboard/fixtures/three-loops.srvlens.gz), each fed as a fresh object
 * (as the runner hands them over), renumbered, to eight servers in two half-hour phases. Rendering goes into an
 * in-memory terminal, escape codes and all, so the figure is blessed's work plus ours, without a terminal's.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Frame, RunStart } from '../src/vocabulary/index.js';
import { readRecording } from '../src/recording/reader.js';
import { PACKAGE_ROOT } from '../src/vocabulary/package-paths.js';
import { LiveFrameStore } from '../dashboard/state/frame-store.js';
import { SnapshotBuilder } from '../dashboard/state/snapshot.js';
import { createScreen } from '../dashboard/screen.js';
import { RunView } from '../dashboard/views/run-view.js';
import { CompareView } from '../dashboard/views/compare-view.js';
import type { View } from '../dashboard/views/view.js';
import { PHASE_WINDOW } from '../dashboard/state/windows.js';

const SERVERS = 8;
const HOUR = 3600;
const MINUTE = 60;
const FIXTURE = join(PACKAGE_ROOT, 'test/dashboard/fixtures/three-loops.srvlens.gz');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RENDERS = arg('--renders', 200);

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

const { records } = await readRecording(FIXTURE);
const recorded = records.filter((r): r is Frame => r.kind === 'frame' && r.generator !== null && r.generator.phase !== 'drain');
const starts: RunStart[] = Array.from({ length: SERVERS }, (_, run) => ({
  kind: 'run-start',
  run,
  server: `server-${run + 1}`,
  model: 'event-loop',
  size: {},
  workload: {},
  t_ms: 0,
}));

/** The i-th interval of a run: a recorded frame, as a new object, in phase "first" for half an hour, then "second". */
function frameAt(run: number, i: number): Frame {
  const f = JSON.parse(JSON.stringify(recorded[(i + run * 7) % recorded.length])) as Frame;
  const phase = i < HOUR / 2 ? 0 : 1;
  return { ...f, run, index: i, t_ms: i * f.interval_ms, generator: { ...f.generator!, phase: phase ? 'second' : 'first', phase_index: phase } };
}

function newStore(): LiveFrameStore {
  return new LiveFrameStore('bench', 1000, null, starts.map((s) => ({ name: s.server, model: s.model, size: s.size })));
}

/** Feeds intervals [from, to) of every server, runs one after another as the runner does. */
function feed(store: LiveFrameStore, from: number, to: number): void {
  for (const start of starts) for (let i = from; i < to; i++) store.push(frameAt(start.run, i), start);
}

function terminal(columns: number, rows: number) {
  const output = Object.assign(new PassThrough(), { isTTY: true, columns, rows, getWindowSize: () => [columns, rows] });
  output.resume();
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode() {} });
  return createScreen({ input, output, terminal: 'xterm-256color' });
}

/**
 * One live interval, as the dashboard's render pass does it: the newest server gets a frame, then the snapshot,
 * the panels and the screen. `fresh`: a new snapshot builder each time, so no server's phase figures are cached.
 */
async function timeRenders(view: 'run' | 'compare', columns: number, rows: number, fresh: boolean): Promise<{ total: number[]; figures: number[] }> {
  const store = newStore();
  feed(store, 0, 90);
  const screen = terminal(columns, rows);
  const v: View = view === 'run' ? new RunView(screen) : new CompareView(screen);
  let builder = new SnapshotBuilder(store);
  const last = starts[SERVERS - 1];
  const playback = { source: 'live' as const, scenario: 'bench', playing: false, speed: 1, note: null };
  const total: number[] = [];
  const figures: number[] = [];
  for (let k = 0; k < RENDERS + 20; k++) {
    store.push(frameAt(last.run, 90 + k), last);
    if (fresh) builder = new SnapshotBuilder(store);
    const t0 = performance.now();
    const snapshot = await builder.build({ run: last.run, pos: 90 + k }, v.compares);
    const t1 = performance.now();
    v.update(snapshot, playback);
    screen.render();
    // The first 20 fill the caches a steady live view has; they are not counted.
    if (k >= 20) {
      total.push(performance.now() - t0);
      figures.push(t1 - t0);
    }
  }
  screen.destroy();
  return { total, figures };
}

console.log(`srvlens dashboard bench: ${SERVERS} servers; ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}; node ${process.version}; load average ${loadavg()[0].toFixed(1)}`);
console.log(`\nrender one interval, ms, over ${RENDERS} renders: a new frame arrives, the snapshot is built (of which: phase`);
console.log(`figures, phaseStats over PHASE_WINDOW = ${PHASE_WINDOW} intervals), then the panels and the screen are drawn:`);
// A round of both views first, not counted: the first configuration measured would otherwise pay for the JIT.
await timeRenders('run', 80, 24, false);
await timeRenders('compare', 80, 24, true);
for (const [columns, rows] of [[80, 24], [160, 48]] as const) {
  for (const [label, view, fresh] of [
    ['Run view', 'run', false],
    ['Compare view', 'compare', false],
    ['Compare view, nothing cached', 'compare', true],
  ] as const) {
    const t = await timeRenders(view, columns, rows, fresh);
    console.log(
      `  ${`${columns}x${rows}`.padEnd(7)} ${label.padEnd(30)} median ${median(t.total).toFixed(2)}  p90 ${p90(t.total).toFixed(2)}` +
        `  (snapshot ${median(t.figures).toFixed(2)}, drawing ${median(t.total.map((x, i) => x - t.figures[i])).toFixed(2)})`,
    );
  }
}

if (!gc) console.log('\n(memory figures without --expose-gc include garbage not yet collected: run node --expose-gc for firm ones)');
const before = heapMb();
const store = newStore();
feed(store, 0, MINUTE);
const minute = heapMb();
const heldMinute = store.held().reduce((s, n) => s + n, 0);
feed(store, MINUTE, HOUR);
const hour = heapMb();
const heldHour = store.held().reduce((s, n) => s + n, 0);
// What keeping every frame would cost instead, from the minute's frames (all of them are still held then).
const perFrameMb = (minute - before) / (MINUTE * SERVERS);
console.log(`\nlive store memory, heap used after GC, MB (${SERVERS} servers, frames of about ${(perFrameMb * 1024).toFixed(1)} KB in memory):`);
console.log(`  after ${MINUTE} intervals per server: ${(minute - before).toFixed(1)} MB over the baseline (${heldMinute} frame slots held)`);
console.log(`  after ${HOUR} intervals per server: ${(hour - before).toFixed(1)} MB (${heldHour} frame slots held)`);
console.log(`  hour / minute: ${((hour - before) / (minute - before)).toFixed(2)}x; keeping every frame would take about ${(perFrameMb * HOUR * SERVERS).toFixed(0)} MB`);
