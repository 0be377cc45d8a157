/**
 * The screens the dashboard bench times (bench/dashboard-render.ts, on bench/dashboard/tour-pictures.ts), held
 * character for character and colour for colour against files written when they were last looked at
 * (__screens__/): a change to how a view is computed or drawn that changes what a user sees fails here, and a
 * deliberate one is looked at and written anew (`npx vitest run test/dashboard/screens.test.ts -u`).
 *
 * Each case renders interval after interval, as live: what a view keeps from one render to the next (a series,
 * its buckets) must give the screen a fresh computation would. The Over-time cases cross the points where its
 * buckets widen (every 2 x 198 intervals at 200 columns: 396 -> 397, 3564 -> 3565).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tourPictures, type TourPictures } from '../../bench/dashboard/tour-pictures.js';
import { CapacityView } from '../../dashboard/views/capacity-view.js';
import { OverTimeView } from '../../dashboard/views/over-time-view.js';
import { RunView } from '../../dashboard/views/run-view.js';
import type { View } from '../../dashboard/views/view.js';
import { colour } from '../../dashboard/widgets/tags.js';
import { fakeTerminal } from './fake-terminal.js';
import { TOUR } from './fixtures.js';

let tour: TourPictures;
beforeAll(async () => {
  tour = await tourPictures(TOUR);
});
afterEach(() => {
  colour.on = true;
});

const VIEWS = { run: RunView, capacity: CapacityView, time: OverTimeView } as const;

/** The screens of `renders` intervals from `history` on: a digest of each, then the last one's text and colours. */
async function screens(view: keyof typeof VIEWS, columns: number, rows: number, history: number, renders: number): Promise<string> {
  const { store, builder, last } = await tour.storeWith(history);
  const term = fakeTerminal(columns, rows);
  const v: View = new VIEWS[view](term.screen);
  const playback = { source: 'live' as const, scenario: 'tour', playing: false, speed: 1, note: null };
  const cells = term.cells;
  const digest = (xs: unknown) => createHash('sha256').update(JSON.stringify(xs)).digest('hex').slice(0, 16);
  const out: string[] = [`# ${view} view at ${columns}x${rows}, intervals ${history}..${history + renders - 1}: a digest of each screen (characters and colours)`];
  for (let k = 0; k < renders; k++) {
    store.push(tour.frameAt(last.run, history + k), last);
    v.update(await builder.build({ run: last.run, pos: history + k }, v.needs), playback);
    term.screen.render();
    out.push(`${history + k} ${digest(cells())}`);
  }
  out.push(`# the last screen`, term.text(), `# its colours (blessed's attributes), a digest per row`);
  cells().forEach((row, y) => out.push(`${y} ${digest(row.map((c) => c[0]))}`));
  term.screen.destroy();
  return `${out.join('\n')}\n`;
}

const file = (name: string) => join(import.meta.dirname, '__screens__', `${name}.txt`);

describe("the bench's screens, as last looked at", () => {
  it('Over time at 200x60, 100 s of run', async () => {
    await expect(await screens('time', 200, 60, 100, 12)).toMatchFileSnapshot(file('over-time-200x60-100s'));
  });

  it('Over time at 200x60, across its first wider bucket (2 intervals a point from interval 397 on)', async () => {
    await expect(await screens('time', 200, 60, 390, 12)).toMatchFileSnapshot(file('over-time-200x60-390s'));
  });

  it('Over time at 200x60, 1 h of run, across 9 -> 10 intervals a point', async () => {
    await expect(await screens('time', 200, 60, 3560, 50)).toMatchFileSnapshot(file('over-time-200x60-1h'));
  });

  it('Over time at 80x24, and without colour', async () => {
    await expect(await screens('time', 80, 24, 100, 12)).toMatchFileSnapshot(file('over-time-80x24-100s'));
    colour.on = false;
    await expect(await screens('time', 200, 60, 100, 3)).toMatchFileSnapshot(file('over-time-200x60-100s-no-colour'));
  });

  it('Capacity at 200x60 and 80x24, and the Run view at 200x60', async () => {
    await expect(await screens('capacity', 200, 60, 100, 3)).toMatchFileSnapshot(file('capacity-200x60'));
    await expect(await screens('capacity', 80, 24, 100, 3)).toMatchFileSnapshot(file('capacity-80x24'));
    await expect(await screens('run', 200, 60, 100, 3)).toMatchFileSnapshot(file('run-200x60'));
  });
});

describe('switching views', () => {
  it('leaves nothing of the view before: the Over-time view after the Run view (made after it, so over it) is the screen it draws alone', async () => {
    const { store, builder, last } = await tour.storeWith(100);
    const playback = { source: 'live' as const, scenario: 'tour', playing: false, speed: 1, note: null };
    // Each terminal's views made right after it: blessed gives a box the screen made last.
    const after = fakeTerminal(200, 60);
    // The Run view's boxes made last, so over the Over-time view's, as a view made later would be.
    const time = new OverTimeView(after.screen);
    const run = new RunView(after.screen);
    const alone = fakeTerminal(200, 60);
    const timeAlone = new OverTimeView(alone.screen);
    store.push(tour.frameAt(last.run, 100), last);
    time.hide();
    run.update(await builder.build({ run: last.run, pos: 100 }, run.needs), playback);
    after.screen.render();
    const s = await builder.build({ run: last.run, pos: 100 }, time.needs);
    run.hide();
    time.show();
    time.update(s, playback);
    after.screen.render();
    timeAlone.update(s, playback);
    alone.screen.render();
    const cells = (t: typeof alone) => t.cells().map((row) => row.map((c) => [...c]));
    expect(cells(after)).toEqual(cells(alone));
    alone.screen.destroy();
    after.screen.destroy();
  });
});
