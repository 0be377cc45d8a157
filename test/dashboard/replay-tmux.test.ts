/**
 * `srvlens replay` and the live dashboard of `srvlens run` as a user meets them: the built CLI in a real terminal
 * (tmux), keys pressed, the pane read back, the exit code checked. Needs `npm run build` first (npm test does it).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readRecording } from '../../src/recording/reader.js';
import { TAG_VAR, newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';
import { TmuxSession, requireTmux } from './tmux.js';
import { THREE_LOOPS, cutCopy } from './fixtures.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const sessions: TmuxSession[] = [];
const session = (argv: string[], env?: Record<string, string>) => {
  const s = new TmuxSession(argv, 100, 30, env);
  sessions.push(s);
  return s;
};

beforeAll(() => {
  requireTmux();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

describe('srvlens replay in a terminal', () => {
  it('plays, pauses, steps, switches server and view, shows the help, and quits with 0', async () => {
    // A quarter speed: the recording lasts 26 s, so it is still playing when space is pressed.
    const t = session([process.execPath, CLI, 'replay', '--speed', '0.25', THREE_LOOPS]);
    await t.waitFor(/lean \(event-loop\) 1\/3 +phase warm 1\/2/, 'the Run view');
    await t.waitFor('playing 0.25x', 'playback');
    t.keys('Space');
    const paused = await t.waitFor(/interval (\d+)\/13, t [\d.]+ s +paused/, 'space pauses');
    const at = Number(/interval (\d+)\/13/.exec(paused)![1]);
    t.keys('Right');
    await t.waitFor(`interval ${at + 1}/13`, 'right steps one interval');
    t.keys('Tab');
    await t.waitFor(/cpu-heavy \(event-loop\) 2\/3/, 'tab goes to the next server');
    t.keys('c');
    const compare = await t.waitFor('p99 ms', 'c shows the Compare view');
    expect(compare).toMatch(/lean +event-loop +\d+/);
    expect(compare).toMatch(/>cpu-heavy +event-loop +\d+/);
    expect(compare).toMatch(/chatty +event-loop +\d+/);
    t.keys('?');
    const help = await t.waitFor('srvlens help: keys', '? shows the help');
    expect(help).toMatch(/left \/ right +one interval back \/ forward/);
    // Line drawing as ASCII-safe box characters, not "lqqk" (NCURSES_NO_UTF8_ACS).
    expect(help).toContain('┌');
    t.keys('Escape');
    await t.waitFor((pane) => !pane.includes('srvlens help'), 'any key closes the help');
    t.keys('q');
    expect(await t.exitCode()).toBe(0);
    expect(t.stderr()).toBe('');
  });

  it('replays a damaged recording up to the damage, says so, and still quits with 0', async () => {
    const t = session([process.execPath, CLI, 'replay', cutCopy(300)]);
    await t.waitFor('damaged recording (h)', 'the damage in the status line');
    t.keys('End');
    await t.waitFor('damaged: it stops here (h)', 'the end of what was read');
    t.keys('q');
    expect(await t.exitCode()).toBe(0);
    expect(t.stderr()).toMatch(/cut short at byte \d+.*; replayed the records before it/);
  });

  it('ends on SIGTERM with 130, as on SIGINT, not with the 0 of blessed\'s own handler', async () => {
    const t = session([process.execPath, CLI, 'replay', '--speed', '0.25', THREE_LOOPS]);
    await t.waitFor('playing 0.25x', 'playback');
    t.signal('SIGTERM');
    expect(await t.exitCode()).toBe(130);
    expect(t.stderr()).toBe('');
  });

  it('without a terminal, prints the report and says why, instead of waiting for keys', async () => {
    const r = await promisify(execFile)(process.execPath, [CLI, 'replay', THREE_LOOPS], { timeout: 20_000 });
    expect(r.stderr).toContain('replay needs a terminal and standard output is not one: printing the report instead');
    expect(r.stdout).toContain('srvlens report: three-loops');
    expect(r.stdout).toMatch(/== cpu-heavy: event-loop/);
  });
});

describe('srvlens run in a terminal', () => {
  it('shows the live dashboard, and q stops the run as Ctrl-C does, keeping what was recorded', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'srvlens-live-')), 'live.srvlens.gz');
    // Every process of the run inherits the tag, so the test can tell that none is left behind.
    const { tag } = newTag();
    const t = session([process.execPath, CLI, 'run', join(import.meta.dirname, 'fixtures/three-loops.yaml'), '--out', out], { [TAG_VAR]: tag });
    await t.waitFor(/srvlens live: three-loops[\s\S]*lean \(event-loop\) 1\/3 +phase warm/, 'the live Run view', 30_000);
    await t.waitFor(/achieved +\d+ req\/s/, 'live figures');
    t.keys('q');
    expect(await t.exitCode(20_000), t.stderr()).toBe(130);
    expect(t.stderr()).toContain(`run stopped; what was recorded is in ${out}`);
    const recording = await readRecording(out);
    expect(recording.records.some((r) => r.kind === 'frame')).toBe(true);
    expect(await waitUntil(() => taggedProcesses(tag).length === 0, 5000)).toBe(true);
  }, 60_000);
});
