/**
 * The dashboard's pictures (issue 15): the capacity of each server as its phases finish, the report's own findings
 * and diagnosis; the axes and the braille they are drawn with; the Over-time series; the views in a fake terminal,
 * with and without colour; and a `srvlens dashboard --out` recording replayed side by side.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, RunStart } from '../../src/vocabulary/index.js';
import { PART_STYLE } from '../../src/vocabulary/index.js';
import { reportFromFile } from '../../src/report/load-report.js';
import type { Report } from '../../src/report/json-report.js';
import type { RunSummary } from '../../src/analysis/run-summary.js';
import { RecordingIndex } from '../../dashboard/state/recording-index.js';
import { LiveFrameStore } from '../../dashboard/state/frame-store.js';
import { CapacityTracker } from '../../dashboard/state/capacity.js';
import { SnapshotBuilder } from '../../dashboard/state/snapshot.js';
import { capacityPanel } from '../../dashboard/panels/capacity.js';
import { OverTimePoints, overTimePanel } from '../../dashboard/panels/over-time.js';
import type { RunSeries } from '../../dashboard/state/series.js';
import { latencyScale, linearScale, niceStep, positionOn } from '../../dashboard/widgets/scale.js';
import { BrailleCanvas } from '../../dashboard/widgets/braille.js';
import { chartLines } from '../../dashboard/widgets/chart.js';
import { colour, colourWanted } from '../../dashboard/widgets/tags.js';
import { serverColour } from '../../dashboard/widgets/server-style.js';
import { Dashboard } from '../../dashboard/dashboard.js';
import { KEY, fakeTerminal, until, type FakeTerminal } from './fake-terminal.js';
import { TOUR, recorded, sideBySideCopy } from './fixtures.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
  colour.on = true;
});

let report: Report;
let tour: { runs: RunStart[]; frames: Frame[] };
beforeAll(async () => {
  report = await reportFromFile(TOUR);
  tour = await recorded(TOUR);
});

async function open(path = TOUR): Promise<RecordingIndex> {
  const index = await RecordingIndex.open(path);
  cleanup.push(() => index.close());
  return index;
}

describe('capacity, as phases finish', () => {
  it("at a run's last interval, has the report's points, knee, what gave out and diagnosis for every server", async () => {
    const index = await open();
    const tracker = new CapacityTracker(index);
    for (const [i, run] of index.runs().entries()) {
      const c = await tracker.of(i, run.frames);
      const expected = report.runs[i].summary as RunSummary;
      expect(c.finished, run.start.server).toBe(5);
      expect(c.points.map((p) => p.name)).toEqual(['r25', 'r50', 'r100', 'r200', 'r400']);
      expect(c.points.map((p) => p.achieved_rps)).toEqual((report.runs[i].phases as { achieved_rps: number }[]).map((p) => p.achieved_rps));
      expect(c.summary).toMatchObject({ knee_rps: expected.knee_rps, peak_rps: expected.peak_rps, limited_by: expected.limited_by, max_sustainable_rps: expected.max_sustainable_rps });
      expect(c.summary!.diagnosis).toBe(expected.diagnosis);
    }
  });

  it('in replay, grows with the cursor: earlier servers whole, the cursor one up to its finished phases, later ones not run yet', async () => {
    const index = await open();
    const builder = new SnapshotBuilder(index);
    // thread-pool-8 (the second server), in its third phase (r100: positions 10-14).
    const s = (await builder.build({ run: 1, pos: 12 }, { capacity: true }))!;
    const p = capacityPanel(s.capacity!, 1, 100);
    expect(p.lines.map((l) => l.points.length)).toEqual([5, 2, 0, 0, 0, 0, 0, 0, 0]);
    expect(p.lines[1].points.map((x) => x.phase)).toEqual(['r25', 'r50']);
    expect(p.lines[1].current).toBe(true);
    expect(p.lines.slice(2).every((l) => l.waiting === 'not run yet')).toBe(true);
    expect(p.lines[0]).toMatchObject({ knee_rps: (report.runs[0].summary as RunSummary).knee_rps, limited_by: 'accept_queue' });
    // The last interval of r100: that phase has finished.
    const end = (await builder.build({ run: 1, pos: 14 }, { capacity: true }))!;
    expect(end.capacity![1].points.map((x) => x.name)).toEqual(['r25', 'r50', 'r100']);
  });

  it("live, the last phase finishes only when the run ends (its drain could still join it): here, at the next server's first frame", async () => {
    const store = new LiveFrameStore('tour', 1000, null, tour.runs.map((r) => ({ name: r.server, model: r.model, size: r.size })), { slo: { p99_ms: 100, max_error_rate: 0.01 } });
    const tracker = new CapacityTracker(store);
    const own = (run: number) => tour.frames.filter((f) => f.run === run);
    for (const f of own(0)) store.push(f, tour.runs[0]);
    expect((await tracker.of(0, store.runs()[0].frames)).finished).toBe(4);
    store.push(own(1)[0], tour.runs[1]);
    const c = await tracker.of(0, store.runs()[0].frames);
    expect(c.finished).toBe(5);
    expect(c.summary!.diagnosis).toBe((report.runs[0].summary as RunSummary).diagnosis);
  });
});

describe('axes', () => {
  it('linear: from 0 to a round top above every value, in steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(400, 4)).toBe(100);
    expect(niceStep(399, 3)).toBe(200);
    expect(niceStep(0.37, 4)).toBe(0.1);
    expect(linearScale([46.4, 374.6, 12], 5)).toEqual({ min: 0, max: 400, log: false, ticks: [0, 100, 200, 300, 400] });
    expect(linearScale([NaN, 0], 4)).toEqual({ min: 0, max: 1, log: false, ticks: [0, 1] });
    expect(linearScale([0.31], 4).max).toBeCloseTo(0.4);
  });

  it('latency: decades on a log axis once it spans LOG_SPAN or more, else linear', () => {
    const log = latencyScale([23, 25, 2900, NaN, 0], 5);
    expect(log).toEqual({ min: 10, max: 10_000, log: true, ticks: [10, 100, 1000, 10_000] });
    expect(positionOn(log)(100)).toBeCloseTo(1 / 3);
    expect(positionOn(log)(0)).toBeNaN();
    // Fewer rows than decades: every other one, both ends kept.
    expect(latencyScale([0.01, 5000], 3).ticks).toEqual([0.01, 10, 10_000]);
    expect(latencyScale([20, 38], 5).log).toBe(false);
  });
});

describe('braille', () => {
  it('draws a line dot by dot into 2x4 cells, and letters over the dots', () => {
    const c = new BrailleCanvas(2, 1);
    c.line(0, 0, 3, 3);
    // Dots (0,0) (1,1) in the first cell (bits 0x01, 0x10), (2,2) (3,3) in the second (0x04, 0x80).
    expect(c.plainLines()).toEqual([String.fromCharCode(0x2811, 0x2884)]);
    c.label(1, 0, 'x', 'red');
    expect(c.plainLines()).toEqual([String.fromCharCode(0x2811) + 'x']);
    expect(c.cellColours()).toEqual(['', 'red']);
  });

  it('puts points where their values fall, ticks in the gutter and the unit on the x axis', () => {
    const x = linearScale([100], 3);
    const y = linearScale([100], 3);
    const d = chartLines({ width: 30, height: 6, x, y, series: [{ xs: [0, 100], ys: [0, 100], colour: 'green', mark: '1', markPoints: true }], bottom: { unit: 'req/s' } });
    expect(d.lines).toHaveLength(6);
    expect(d.lines[0]).toMatch(/^100┤.*1$/);
    expect(d.lines[4]).toMatch(/^ {2}0┤1/);
    expect(d.lines[5]).toMatch(/^ {3}└0 .* req\/s$/);
    expect(d.lines.every((l) => l.length === 30)).toBe(true);
    // The point's letter is painted in its colour; without colour nothing is.
    const paint = d.paints[0];
    expect(paint.colours[paint.cols - 1]).toBe('green');
    colour.on = false;
    expect(chartLines({ width: 30, height: 6, x, y, series: [], bottom: { unit: 'req/s' } }).paints).toEqual([]);
  });

  it('NO_COLOR: colour unless it is set and not empty', () => {
    expect(colourWanted({})).toBe(true);
    expect(colourWanted({ NO_COLOR: '' })).toBe(true);
    expect(colourWanted({ NO_COLOR: '1' })).toBe(false);
  });
});

describe('over time', () => {
  const series = (n: number): RunSeries => ({
    length: n,
    offered: Array.from({ length: n }, () => 100),
    achieved: Array.from({ length: n }, (_, i) => i),
    p99: Array.from({ length: n }, (_, i) => (i === 7 ? 500 : 10)),
    parts: Object.fromEntries(Object.keys(PART_STYLE).map((p) => [p, Array.from({ length: n }, () => (p === 'downstream' ? 20 : NaN))])) as RunSeries['parts'],
    saturated: Array.from({ length: n }, (_, i) => i === 3),
    generator: true,
  });

  it('cuts a run longer than the chart into buckets: rates and parts their mean, p99 its highest', () => {
    const spans = [
      { name: 'a', index: 0, from: 0, to: 500 },
      { name: 'b', index: 1, from: 500, to: 1000 },
    ];
    const d = overTimePanel(series(1000), spans, 1000, 1000, 100);
    expect(d.bucket).toBe(10);
    expect(d.t_s).toHaveLength(100);
    expect(d.t_s[0]).toBe(10);
    expect(d.achieved[0]).toBe(4.5);
    // The one spike of 500 ms is the first bucket's p99, not lost in a mean of 59 ms.
    expect(d.p99[0]).toBe(500);
    expect(d.p99[1]).toBe(10);
    expect(d.parts.map((p) => p.part)).toEqual(['downstream']);
    expect(d.phases).toEqual([
      { t_s: 0, name: 'a' },
      { t_s: 500, name: 'b' },
    ]);
    expect(d.saturated).toBe(1);
    // Interval 3 falls in the first point: that point is flagged.
    expect(d.saturated_t).toEqual([10]);
  });

  it('shows the run up to the cursor only', () => {
    const d = overTimePanel(series(1000), [{ name: 'a', index: 0, from: 0, to: 1000 }], 500, 20, 100);
    expect(d).toMatchObject({ bucket: 1, intervals: 20 });
    expect(d.t_s[19]).toBe(10);
  });

  it('render after render, goes on from the last points to the same answer as afresh: as the buckets widen, back and forth', () => {
    const s = series(1000);
    const spans = [{ name: 'a', index: 0, from: 0, to: 1000 }];
    const points = new OverTimePoints();
    // Across 1 -> 2 -> 3 intervals a point (100 points across), then a seek back and one to another run's series.
    for (const shown of [95, 100, 101, 150, 140, 199, 200, 201, 202, 305, 120, 121, 1000]) {
      expect(points.panel(s, spans, 1000, shown, 100), `${shown} intervals`).toEqual(overTimePanel(s, spans, 1000, shown, 100));
    }
    const other = { ...series(1000), p99: Array.from({ length: 1000 }, () => 3) };
    expect(points.panel(other, spans, 1000, 1000, 100)).toEqual(overTimePanel(other, spans, 1000, 1000, 100));
    // A part first measured, and saturation first seen, after the earlier renders' cursors.
    const late = series(1000);
    late.parts.server_queue = late.parts.server_queue.map((v, i) => (i >= 150 ? 4 : v));
    late.saturated = late.saturated.map((v, i) => v || i === 160 || i === 170);
    const fresh = new OverTimePoints();
    for (const shown of [100, 149, 151, 165, 200, 120, 300]) {
      expect(fresh.panel(late, spans, 1000, shown, 100), `${shown} intervals, late part`).toEqual(overTimePanel(late, spans, 1000, shown, 100));
    }
  });
});

async function replay(columns: number, rows: number, path = TOUR): Promise<FakeTerminal> {
  const index = await open(path);
  const term = fakeTerminal(columns, rows);
  const dash = new Dashboard({ screen: term.screen, timeline: index, paused: true });
  cleanup.unshift(() => dash.close());
  await until(() => term.text().includes('interval 1/'), 'the first render');
  return term;
}

describe('the views', () => {
  it('k: the capacity view at 80x24, a legend entry per server, axes with units, nothing wider than the screen', async () => {
    const term = await replay(80, 24);
    term.press(KEY.end);
    await until(() => term.text().includes('end of the recording'), 'the end');
    term.press('k');
    await until(() => term.text().includes('offered req/s'), 'the capacity view');
    const text = term.text();
    for (const [i, r] of report.runs.entries()) expect(text).toContain(`${i + 1} ${r.server}`);
    expect(text).toContain('achieved req/s against offered req/s');
    expect(text).toMatch(/p99 latency, ms \(log scale\)/);
    expect(text).toMatch(/\d+┤/);
    expect(text.split('\n').every((l) => l.length === 80)).toBe(true);
    // hybrid-2 (9), the cursor's server, is drawn in its colour.
    expect(term.cellColours('>9 hybrid-2', '9')?.fg).toBe(colourCode(serverColour(8)));
    term.press('k');
    await until(() => term.text().includes('where the time goes'), 'k again: the Run view');
  });

  it("t: the run's throughput, p99 and parts over time, the phases named where they begin; a resize redraws it", async () => {
    const term = await replay(100, 30);
    term.press(KEY.end);
    term.press('t');
    await until(() => term.text().includes('s of the run'), 'the Over-time view');
    const text = term.text();
    expect(text).toMatch(/└r25 +r50 +r100 +r200 +r400/);
    expect(text).toContain('┊');
    expect(text).toContain('throughput, req/s: o offered, a achieved');
    expect(text).toContain('p99 latency from intended send, ms');
    term.resize(160, 40);
    await until(() => term.text().split('\n').length === 40 && term.text().split('\n')[10].length === 160 && /└r25 +r50/.test(term.text()), 'the view at 160x40');
  });

  it('the Run view shows the diagnosis once the run has a knee, not before', async () => {
    const term = await replay(120, 40);
    expect(term.text()).not.toContain('diagnosis over the finished phases');
    term.press(KEY.end);
    await until(() => term.text().includes('end of the recording'), 'the end');
    // hybrid-2 never bends (no knee): still none. iterative (tab) does, at 25 req/s.
    expect(term.text()).not.toContain('diagnosis over the finished phases');
    term.press(KEY.tab);
    await until(() => term.text().includes('diagnosis over the finished phases'), 'the diagnosis');
    expect(term.text()).toMatch(/knee 25 req\/s offered \(r25\), peak 46 req\/s; gave out: accept_queue/);
  });

  it('NO_COLOR: no colour anywhere on the screen, the parts and servers still by their letters', async () => {
    colour.on = false;
    const term = await replay(100, 30);
    term.press(KEY.end);
    term.press('k');
    await until(() => term.text().includes('offered req/s'), 'the capacity view');
    const lines = term.cells();
    const coloured = lines.flat().filter(([attr]) => ((attr >> 9) & 0x1ff) !== 0x1ff || (attr & 0x1ff) !== 0x1ff);
    expect(coloured).toEqual([]);
    term.press('k');
    await until(() => term.text().includes('where the time goes'), 'the Run view');
    expect(term.text()).toMatch(/w+a+/);
  });
});

/** blessed's palette index of a colour name. */
function colourCode(name: string): number {
  const names = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
  return name.startsWith('light-') ? 8 + names.indexOf(name.slice(6)) : names.indexOf(name);
}

describe('a `srvlens dashboard --out` recording, replayed side by side', () => {
  it('is known to have run side by side; the tour is not', async () => {
    expect((await open(await sideBySideCopy())).concurrent).toBe(true);
    expect((await open()).concurrent).toBe(false);
  });

  it('steps every server through the same moments: tab keeps the moment, Compare shows the others at it', async () => {
    const term = await replay(100, 30, await sideBySideCopy(4));
    // At the first moment only lean runs; 4 intervals on, chatty starts beside it.
    expect(term.text()).toMatch(/lean \(unknown\) 1\/2/);
    for (let i = 0; i < 6; i++) term.press(KEY.right);
    await until(() => /lean \(unknown\) 1\/2[\s\S]*interval 7\//.test(term.text()), 'lean, its seventh interval');
    // What lean served over its window up to this moment (its 3.5 s), as the Run view shows it.
    const leanServed = /served +[\d.]+ req\/s +([\d.]+) req\/s/.exec(term.text())![1];
    term.press(KEY.tab);
    await until(() => /chatty \(unknown\) 2\/2[\s\S]*interval 3\//.test(term.text()), 'chatty at the same moment: its third interval');
    term.press('c');
    await until(() => term.text().includes('server side'), 'the Compare view');
    expect(term.text()).toMatch(/>chatty +unknown +\d/);
    // lean at the same moment, not over its whole run: the very figure its Run view showed then.
    expect(term.text()).toMatch(new RegExp(` lean +unknown +${leanServed} `));
    // Back to the start: chatty had not started then, so lean is shown, and chatty is not run yet.
    term.press(KEY.home);
    await until(() => term.text().includes('not run yet'), 'chatty not run yet at the first moment');
  });
});
