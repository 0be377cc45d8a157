/**
 * What the dashboard costs, measured, never asserted (bench/README.md): the time to draw one interval for eight
 * servers, the Capacity and Over-time views for nine at 200x60 against a 5 ms frame budget, our braille charts
 * against blessed-contrib's `line`, and the live store's memory after an hour of frames against after a minute.
 *
 *   npm run build && node --expose-gc dist/bench/dashboard-render.js [--renders 200] [--json]
 *
 * Frames are the recorded fixtures' (test/dashboard/fixtures/three-loops.srvlens.gz; for the pictures, the tour's
 * nine servers, test/report/fixtures/tour.srvlens.gz), each fed as a fresh object (as the runner hands them over),
 * renumbered. Rendering goes into an in-memory terminal, escape codes and all, so the figure is blessed's work
 * plus ours, without a terminal's.
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
import { CapacityView } from '../dashboard/views/capacity-view.js';
import { OverTimeView } from '../dashboard/views/over-time-view.js';
import type { View } from '../dashboard/views/view.js';
import { PHASE_WINDOW } from '../dashboard/state/windows.js';
import { overTimePanel } from '../dashboard/panels/over-time.js';
import { PART_STYLE } from '../src/vocabulary/index.js';
import contribLine from 'blessed-contrib/lib/widget/charts/line.js';
import type { SuiteJson } from './suite/specs.js';
import { tourPictures } from './dashboard/tour-pictures.js';
import { benchArgs } from './cli.js';

const SERVERS = 8;
const HOUR = 3600;
const MINUTE = 60;
const FIXTURE = join(PACKAGE_ROOT, 'test/dashboard/fixtures/three-loops.srvlens.gz');
const TOUR = join(PACKAGE_ROOT, 'test/report/fixtures/tour.srvlens.gz');
/** The issue's budget for one frame of the new views at 200x60 with nine servers (issue 15). */
const FRAME_BUDGET_MS = 5;
const ARGS = benchArgs('dashboard-render', 'usage: node --expose-gc dist/bench/dashboard-render.js [--renders N] [--json]', {
  renders: { type: 'string', default: '200' },
  json: { type: 'boolean', default: false },
});
const RENDERS = Number(ARGS.renders);
/** --json: the suite's figures on stdout (bench/suite/specs.ts, SuiteJson), the text on stderr. */
const JSON_OUT = ARGS.json;
const say = JSON_OUT ? console.error : console.log;
const suiteFigures: SuiteJson['figures'] = [];

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
    const snapshot = await builder.build({ run: last.run, pos: 90 + k }, v.needs);
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

say(`srvlens dashboard bench: ${SERVERS} servers; ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}; node ${process.version}; load average ${loadavg()[0].toFixed(1)}`);
say(`\nrender one interval, ms, over ${RENDERS} renders: a new frame arrives, the snapshot is built (of which: phase`);
say(`figures, phaseStats over PHASE_WINDOW = ${PHASE_WINDOW} intervals), then the panels and the screen are drawn:`);
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
    say(
      `  ${`${columns}x${rows}`.padEnd(7)} ${label.padEnd(30)} median ${median(t.total).toFixed(2)}  p90 ${p90(t.total).toFixed(2)}` +
        `  (snapshot ${median(t.figures).toFixed(2)}, drawing ${median(t.total.map((x, i) => x - t.figures[i])).toFixed(2)})`,
    );
  }
}

// The pictures: the tour's nine servers, the last one with a long series behind it (tour-pictures.ts).
const tour = await tourPictures(TOUR);
const tourStarts = tour.starts;

async function timePictures(view: 'capacity' | 'time' | 'run', columns: number, rows: number, history: number): Promise<number[]> {
  const { store, builder, last } = await tour.storeWith(history);
  const screen = terminal(columns, rows);
  const v: View = view === 'capacity' ? new CapacityView(screen) : view === 'time' ? new OverTimeView(screen) : new RunView(screen);
  const playback = { source: 'live' as const, scenario: 'tour', playing: false, speed: 1, note: null };
  const total: number[] = [];
  for (let k = 0; k < RENDERS + 20; k++) {
    store.push(tour.frameAt(last.run, history + k), last);
    const t0 = performance.now();
    const snapshot = await builder.build({ run: last.run, pos: history + k }, v.needs);
    v.update(snapshot, playback);
    screen.render();
    if (k >= 20) total.push(performance.now() - t0);
  }
  screen.destroy();
  return total;
}

say(`\nthe pictures, ${tourStarts.length} servers (the tour's, five steps each, the last one then held at r400), ms per render`);
say(`(a new interval, the snapshot with every server's capacity or the run's series, the view drawn); budget ${FRAME_BUDGET_MS} ms:`);
// The Run view (with the diagnosis) is the baseline of this go: on a busy host every figure rises, the ratios less.
await timePictures('capacity', 80, 24, 100);
const baselineTimes = await timePictures('run', 200, 60, 100);
const baseline = median(baselineTimes);
suiteFigures.push({ name: `200x60, ${tourStarts.length} servers: Run view with the diagnosis`, unit: 'ms', samples: baselineTimes });
say(`  200x60  ${'Run view with the diagnosis'.padEnd(30)} median ${baseline.toFixed(2)}  (the baseline)`);
for (const [label, view, columns, rows, history] of [
  ['Capacity view', 'capacity', 200, 60, 100],
  ['Over-time view, 100 s of run', 'time', 200, 60, 100],
  ['Over-time view, 1 h of run', 'time', 200, 60, 3600],
  ['Capacity view', 'capacity', 80, 24, 100],
  ['Over-time view, 100 s of run', 'time', 80, 24, 100],
] as const) {
  const t = await timePictures(view, columns, rows, history);
  const m = median(t);
  suiteFigures.push({ name: `${columns}x${rows}, ${tourStarts.length} servers: ${label}`, unit: 'ms', samples: t, target: { op: '<=', value: FRAME_BUDGET_MS } });
  say(
    `  ${`${columns}x${rows}`.padEnd(7)} ${label.padEnd(30)} median ${m.toFixed(2)}  p90 ${p90(t).toFixed(2)}  ${(m / baseline).toFixed(2)}x the Run view,` +
      ` ${(m / FRAME_BUDGET_MS).toFixed(2)} of the budget${m > FRAME_BUDGET_MS ? ': MISSED' : ''}`,
  );
}

// Our braille charts against blessed-contrib's line (drawille), on the same series: the Over-time view's three
// charts (2 rate lines, p99, 10 parts) over 300 intervals, each in a box of the view's size at 200x60.
{
  const store = new LiveFrameStore('tour', 1000, null, tourStarts.map((st) => ({ name: st.server, model: st.model, size: st.size })));
  const st = tourStarts[0];
  for (let i = 0; i < 300; i++) store.push(tour.frameAt(st.run, i), st);
  const snapshot = (await new SnapshotBuilder(store).build({ run: st.run, pos: 299 }, { series: true }))!;
  // Ours: the Over-time view itself, on one snapshot; theirs: a contrib line in each of the view's three boxes.
  const screen = terminal(200, 60);
  const view = new OverTimeView(screen);
  const playback = { source: 'live' as const, scenario: 'tour', playing: false, speed: 1, note: null };
  const ourTimes: number[] = [];
  for (let k = 0; k < RENDERS + 20; k++) {
    const t0 = performance.now();
    view.update(snapshot, playback);
    screen.render();
    if (k >= 20) ourTimes.push(performance.now() - t0);
  }
  view.hide();
  const boxes = [
    { top: 10, height: 15 },
    { top: 25, height: 15 },
    { top: 40, height: 20 },
  ];
  const d = overTimePanel(snapshot.series!, snapshot.run.spans, 1000, 300, 2 * 198);
  const labels = d.t_s.map((t) => String(t));
  const finite = (ys: number[]) => ys.map((y) => (Number.isFinite(y) ? y : 0));
  const data = [
    [{ title: 'offered', x: labels, y: finite(d.offered) }, { title: 'achieved', x: labels, y: finite(d.achieved), style: { line: 'green' } }],
    [{ title: 'p99', x: labels, y: finite(d.p99) }],
    d.parts.map((p) => ({ title: p.part, x: labels, y: finite(p.ms), style: { line: PART_STYLE[p.part].bg } })),
  ];
  const theirs = boxes.map((b) => contribLine({ top: b.top, left: 0, width: 200, height: b.height, border: { type: 'line' } }));
  for (const w of theirs) screen.append(w);
  const contribTimes: number[] = [];
  for (let k = 0; k < RENDERS + 20; k++) {
    const t0 = performance.now();
    theirs.forEach((w, i) => w.setData(data[i]));
    screen.render();
    if (k >= 20) contribTimes.push(performance.now() - t0);
  }
  screen.destroy();
  say(`\nthe Over-time view's three charts at 200x60, 300 intervals, ms per render (setting the data and drawing the screen):`);
  say(`  braille, ours (the Over-time view)      median ${median(ourTimes).toFixed(2)}  p90 ${p90(ourTimes).toFixed(2)}`);
  say(`  blessed-contrib line (drawille)         median ${median(contribTimes).toFixed(2)}  p90 ${p90(contribTimes).toFixed(2)}  (${(median(contribTimes) / median(ourTimes)).toFixed(1)}x ours)`);
}

if (!gc) say('\n(memory figures without --expose-gc include garbage not yet collected: run node --expose-gc for firm ones)');
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
say(`\nlive store memory, heap used after GC, MB (${SERVERS} servers, frames of about ${(perFrameMb * 1024).toFixed(1)} KB in memory):`);
say(`  after ${MINUTE} intervals per server: ${(minute - before).toFixed(1)} MB over the baseline (${heldMinute} frame slots held)`);
say(`  after ${HOUR} intervals per server: ${(hour - before).toFixed(1)} MB (${heldHour} frame slots held)`);
say(`  hour / minute: ${((hour - before) / (minute - before)).toFixed(2)}x; keeping every frame would take about ${(perFrameMb * HOUR * SERVERS).toFixed(0)} MB`);
if (JSON_OUT) process.stdout.write(`${JSON.stringify({ figures: suiteFigures } satisfies SuiteJson)}\n`);
