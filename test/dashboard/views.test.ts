/**
 * Each view drawn from the recorded fixture into a fake terminal, read back as a user would: server names, the
 * phase, numbers with their units, colours, and the keys that move through it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame, RunStart } from '../../src/vocabulary/index.js';
import { loadScenario } from '../../src/scenario/read-scenario.js';
import { Dashboard } from '../../dashboard/dashboard.js';
import { RecordingIndex } from '../../dashboard/state/recording-index.js';
import { startLiveDashboard } from '../../dashboard/live.js';
import { KEY, fakeTerminal, until, type FakeTerminal } from './fake-terminal.js';
import { THREE_LOOPS, cutCopy, recorded } from './fixtures.js';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function replay(columns: number, rows: number, path = THREE_LOOPS): Promise<{ term: FakeTerminal; dash: Dashboard }> {
  const index = await RecordingIndex.open(path);
  const term = fakeTerminal(columns, rows);
  const dash = new Dashboard({ screen: term.screen, timeline: index, paused: true });
  cleanup.push(() => dash.close(), () => index.close());
  await until(() => term.text().includes('interval 1/'), 'the first render');
  return { term, dash };
}

/** Goes to the cpu-heavy server's busy phase: 9 intervals into its run. */
async function toCpuHeavyBusy(term: FakeTerminal): Promise<void> {
  term.press(KEY.tab);
  await until(() => term.text().includes('cpu-heavy (event-loop) 2/3'), 'tab to cpu-heavy');
  for (let i = 0; i < 8; i++) term.press(KEY.right);
  await until(() => term.text().includes('interval 9/14'), 'stepping to interval 9');
}

const UNIT_NUMBER = /\d (req\/s|ms|ms\/req|\/req|%|s|calls|req)\b/g;

describe('Run view', () => {
  it('shows one server at the cursor at 80x24: phase, throughput, latency, parts, contexts, costs, with units', async () => {
    const { term } = await replay(80, 24);
    await toCpuHeavyBusy(term);
    const text = term.text();
    expect(text).toContain('srvlens replay: three-loops');
    expect(text).toMatch(/cpu-heavy \(event-loop\) 2\/3 +phase busy 2\/2: 1.5 s of 3 s/);
    expect(text).toMatch(/offered +350 req\/s +350 req\/s/);
    expect(text).toMatch(/p99 +[\d.]+ ms +[\d.]+ ms/);
    expect(text).toMatch(/server_queue [\d.]+ ms/);
    expect(text).toMatch(/where the time goes: busy, 1.5 s so far, mean [\d.]+ ms/);
    expect(text).toMatch(/main +[\d.]+ % +[\d.]+ % +[\d.]+ %/);
    expect(text).toMatch(/server wait +[\d.]+ ms\/req/);
    expect(text).toMatch(/vol +[\d.]+ \/req/);
    expect(text).toMatch(/delay p99 +[\d.]+ ms/);
    expect(text).toMatch(/utilization +\d+ %/);
    expect(text.match(UNIT_NUMBER)!.length).toBeGreaterThan(25);
    // Every line fits the terminal: nothing wraps onto the next line at 80 columns.
    expect(text.split('\n').every((l) => l.length === 80)).toBe(true);
  });

  it('draws the parts as letters on colours, black on a set background so both themes read them', async () => {
    const { term } = await replay(80, 24);
    await toCpuHeavyBusy(term);
    const bar = term.text().split('\n').find((l) => /│w+q+/.test(l))!;
    expect(bar).toBeDefined();
    const queue = term.cellColours(bar, 'q')!;
    const downstream = term.cellColours(bar, 'd')!;
    // xterm palette: 0 black, 11 light yellow, 12 light blue.
    expect(queue).toEqual({ fg: 0, bg: 11 });
    expect(downstream).toEqual({ fg: 0, bg: 12 });
  });

  it('marks the intervals in which the generator was saturated', async () => {
    const { term } = await replay(100, 30);
    term.press(KEY.end);
    await until(() => term.text().includes('end of the recording'), 'the end');
    const text = term.text();
    expect(text).toContain('latency; ! generator saturated');
    expect(text).toMatch(/now +phase +[ !]*!/);
  });

  it('follows a resize: the layout is drawn again for the new size', async () => {
    const { term } = await replay(80, 24);
    term.resize(120, 40);
    // blessed alone redraws the old text at the new size; the panels' text must be laid out again for the new
    // widths: the decomposition bar, with its total, reaches the right border of a 120-column screen.
    const barToBorder = () => term.text().split('\n').some((l) => l.length === 120 && /^│w+[a-z?]* [\d.]+ ms│$/.test(l));
    await until(barToBorder, 'the bar laid out for 120 columns');
    expect(term.text().split('\n')).toHaveLength(40);
    expect(term.text()).toMatch(/lean \(event-loop\) 1\/3/);
  });
});

describe('Compare view', () => {
  it('shows every server side by side at the cursor phase, with units in the headers', async () => {
    const { term } = await replay(80, 24);
    await toCpuHeavyBusy(term);
    term.press('c');
    await until(() => term.text().includes('p99 ms'), 'the Compare view');
    const text = term.text();
    expect(text).toContain('phase busy, 1.5 s so far for >; others: whole phase');
    for (const name of ['lean', '>cpu-heavy', 'chatty']) expect(text).toMatch(new RegExp(`${name} +\\d+ +[\\d.]+ +[\\d.]+ +[\\d.]+ +[wqcdtsn?]+ +[\\d.]+ ms`));
    expect(text).toMatch(/server +req\/s +p99 ms +CPU ms\/req +cs\/req +ms\/req, one scale/);
    expect(text).toContain('q server_queue');
    // The second table: each part's ms per request, per server.
    expect(text).toMatch(/ cpu-heavy( +[\d.]+){10}/);
    term.press('c');
    await until(() => term.text().includes('contexts, this interval'), 'back to the Run view');
  });
});

describe('keys', () => {
  it('space plays and pauses, right and left step, home and end seek, +/- change the speed, tab keeps the phase', async () => {
    const { term, dash } = await replay(100, 30);
    term.press(KEY.right);
    await until(() => term.text().includes('interval 2/13'), 'right');
    term.press(KEY.left);
    await until(() => term.text().includes('interval 1/13'), 'left');
    term.press(KEY.end);
    await until(() => /chatty \(event-loop\) 3\/3/.test(term.text()) && term.text().includes('interval 13/13'), 'end');
    term.press(KEY.home);
    await until(() => /lean \(event-loop\) 1\/3/.test(term.text()), 'home');
    term.press('+');
    term.press(KEY.space);
    await until(() => term.text().includes('playing 2x'), 'space to play at 2x');
    expect(dash.timerArmed).toBe(true);
    term.press('-');
    term.press('-');
    await until(() => term.text().includes('playing 0.5x'), 'slower');
    term.press(KEY.space);
    await until(() => term.text().includes('paused'), 'space to pause');
    term.press(KEY.home);
    for (let i = 0; i < 7; i++) term.press(KEY.right);
    await until(() => term.text().includes('interval 8/13') && term.text().includes('phase warm 1/2: draining') === false, 'lean busy');
    // lean's 8th interval is 1 s into busy; tab goes to cpu-heavy 1 s into busy, not to its 8th interval.
    const before = term.text().match(/phase busy 2\/2: ([\d.]+ s)/)![1];
    term.press(KEY.tab);
    await until(() => term.text().includes('cpu-heavy (event-loop) 2/3'), 'tab');
    expect(term.text().match(/phase busy 2\/2: ([\d.]+ s)/)![1]).toBe(before);
  });

  it('h and ? show the help over the view, any key closes it, q quits and leaves no timer', async () => {
    const { term, dash } = await replay(80, 24);
    term.press('?');
    await until(() => term.text().includes('srvlens help: keys'), 'help');
    expect(term.text()).toMatch(/space +pause \/ play/);
    expect(term.text()).toMatch(/q +quit/);
    term.press('x');
    await until(() => !term.text().includes('srvlens help'), 'help closed');
    term.press('h');
    await until(() => term.text().includes('srvlens help: keys'), 'help again');
    term.press(KEY.space);
    await until(() => !term.text().includes('srvlens help'), 'help closed by space');
    term.press('q');
    await dash.done;
    expect(dash.timerArmed).toBe(false);
  });
});

describe('a damaged recording', () => {
  it('replays up to the damage and says so', async () => {
    const { term } = await replay(80, 24, cutCopy(300));
    expect(term.text()).toContain('damaged recording (h)');
    term.press(KEY.end);
    await until(() => term.text().includes('damaged: it stops here (h)'), 'the end of what was read');
    expect(term.text()).toMatch(/chatty \(event-loop\) 3\/3 \[run cut short\]/);
    term.press('h');
    await until(() => term.text().includes('this recording is damaged'), 'the details in the help');
    expect(term.text()).toContain('cut short at byte');
  });
});

describe('live', () => {
  it('shows the newest frame as the runner hands it over, the servers not run yet, and q stops the run', async () => {
    const scenario = loadScenario(join(import.meta.dirname, 'fixtures/three-loops.yaml'));
    const { runs, frames } = await recorded();
    const term = fakeTerminal(100, 30);
    let quits = 0;
    const live = startLiveDashboard(scenario, () => quits++, term.screen);
    cleanup.push(() => live.close());
    await until(() => term.text().includes('waiting for the first interval'), 'the empty dashboard');
    expect(term.text()).toContain('srvlens live: three-loops');
    const lean = frames.filter((f: Frame) => f.run === 0);
    live.log('run 1/3: lean (event-loop)');
    for (const f of lean.slice(0, 9)) live.onFrame(f, runs[0] as RunStart);
    await until(() => term.text().includes(`interval 9/9`), 'the ninth frame');
    expect(term.text()).toMatch(/lean \(event-loop\) 1\/3 +phase busy 2\/2: 1.5 s of 3 s/);
    expect(term.text()).toContain('live  run 1/3: lean (event-loop)');
    term.press('c');
    await until(() => term.text().includes('not run yet'), 'Compare');
    expect(term.text()).toMatch(/cpu-heavy +event-loop +not run yet/);
    expect(quits).toBe(0);
    term.press(KEY.ctrlC);
    await until(() => quits === 1, 'Ctrl-C to stop the run');
  });

  it('marks the status line where the phase\'s figures fail a self-check: more CPU than this host has', async () => {
    const scenario = loadScenario(join(import.meta.dirname, 'fixtures/three-loops.yaml'));
    const { runs, frames } = await recorded();
    const term = fakeTerminal(140, 30);
    const live = startLiveDashboard(scenario, () => undefined, term.screen);
    cleanup.push(() => live.close());
    const lean = frames.filter((f: Frame) => f.run === 0).slice(0, 9);
    for (const f of lean.slice(0, 8)) live.onFrame(f, runs[0] as RunStart);
    await until(() => term.text().includes('interval 8/8'), 'the eighth frame');
    expect(term.text()).not.toContain('check failed');
    // One interval whose contexts burned ten times the cores of this machine in one second.
    const cpus = availableParallelism();
    const hot = { ...lean[8], contexts: lean[8].contexts.map((c, i) => (i === 0 ? { ...c, cpu_user_ms: cpus * 10_000 } : c)) };
    live.onFrame(hot, runs[0] as RunStart);
    await until(() => term.text().includes('interval 9/9'), 'the ninth frame');
    expect(term.text()).toContain('[check failed: cpu_within_host]');
  });
});
