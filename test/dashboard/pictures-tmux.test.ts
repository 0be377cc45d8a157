/**
 * The Capacity and Over-time views as a user meets them: `srvlens replay` of the recorded tour, built CLI in a real
 * terminal (tmux), keys pressed, the terminal resized, the pane read back, the exit code checked. Needs
 * `npm run build` first (npm test does it).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TmuxSession, requireTmux } from './tmux.js';
import { TOUR } from './fixtures.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const SERVERS = ['iterative', 'thread-pool-8', 'thread-per-conn', 'prefork-4', 'fork-per-conn', 'event-loop', 'event-loop-raw', 'loop-per-core', 'hybrid-2'];
const sessions: TmuxSession[] = [];
const replay = (columns: number, rows: number, env: Record<string, string> = {}) => {
  const s = new TmuxSession([process.execPath, CLI, 'replay', TOUR], columns, rows, env);
  sessions.push(s);
  return s;
};
const rows = (pane: string) => pane.trimEnd().split('\n');
const widest = (pane: string) => Math.max(...rows(pane).map((l) => [...l].length));
/** An SGR sequence that sets a colour (foreground or background, 8, 16 or 256 colours). */
const COLOUR_SGR = /\x1b\[(?:[\d;]*;)?(?:3[0-7]|9[0-7]|4[0-7]|10[0-7]|[34]8;5;\d+)(?:;[\d;]*)?m/;

beforeAll(() => {
  requireTmux();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

async function atTheEnd(t: TmuxSession): Promise<void> {
  await t.waitFor('iterative (iterative) 1/9', 'the Run view');
  t.keys('End');
  await t.waitFor('end of the recording', 'the last interval');
}

describe('the Capacity view in a terminal', () => {
  it('k shows achieved and p99 against offered, a line per server, axes with units; it redraws on resize; q quits with 0', async () => {
    const t = replay(200, 60);
    await atTheEnd(t);
    t.keys('k');
    const pane = await t.waitFor('achieved req/s against offered req/s', 'k: the Capacity view');
    expect(pane).toMatch(/p99 latency, ms \(log scale\), against offered req\/s, ┄ SLO 100 ms/);
    expect(pane).toMatch(/└0 .* offered req\/s/);
    expect(pane).toMatch(/│400┤/);
    // A legend entry per server, each with its figures: the blocking ones bent (a knee, what gave out), the loops did not.
    SERVERS.forEach((name, i) => expect(pane).toMatch(new RegExp(`[ >]${i + 1} ${name}\\b`)));
    expect(pane).toMatch(/knee 200 req\/s, peak 375 req\/s, accept_queue/);
    expect(pane).toMatch(/no knee yet, peak 399 req\/s/);
    // Every server's number stands on the charts where its points are.
    for (let i = 1; i <= SERVERS.length; i++) expect(pane.split('\n').some((l) => l.includes('│') && /[⠀-⣿]/.test(l) && l.includes(String(i)))).toBe(true);

    t.resize(80, 24);
    const small = await t.waitFor((p) => rows(p).length === 24 && widest(p) === 80 && p.includes('offered req/s') && p.includes('9 hybrid-2'), 'the view redrawn at 80x24');
    // At 80x24 the legend keeps the cursor's server and its diagnosis, and as many of the others as fit beside them
    // (which ones depends on how much of the diagnosis is there when the pane is read).
    expect(SERVERS.filter((name, i) => small.includes(`${i + 1} ${name}`)).length).toBeGreaterThanOrEqual(7);
    t.keys('k');
    await t.waitFor('where the time goes', 'k again: the Run view');
    t.keys('q');
    expect(await t.exitCode()).toBe(0);
    expect(t.stderr()).toBe('');
  }, 30_000);
});

describe('the Over-time view in a terminal', () => {
  it("t shows throughput, p99 and the parts over the run with the phases marked; it redraws on resize; q quits with 0", async () => {
    const t = replay(100, 30);
    await atTheEnd(t);
    t.keys('t');
    const pane = await t.waitFor('s of the run', 't: the Over-time view');
    expect(pane).toContain('throughput, req/s: o offered, a achieved; ┊ a phase begins');
    expect(pane).toContain('p99 latency from intended send, ms');
    expect(pane).toContain('where the time goes, ms/req per part');
    expect(pane).toMatch(/└r25 +r50 +r100 +r200 +r400/);
    // A boundary mark on every chart row between the phases.
    expect(pane.split('\n').filter((l) => l.includes('┊')).length).toBeGreaterThan(6);
    t.resize(160, 45);
    await t.waitFor((p) => rows(p).length === 45 && widest(p) === 160 && /└r25 +r50 +r100 +r200 +r400/.test(p), 'the view redrawn at 160x45');
    t.keys('Tab');
    await t.waitFor(/iterative \(iterative\) 1\/9[\s\S]*s of the run/, 'tab: the next server, still over time');
    t.keys('q');
    expect(await t.exitCode()).toBe(0);
    expect(t.stderr()).toBe('');
  }, 30_000);
});

describe('NO_COLOR', () => {
  it('draws no colour at all when it is set; the same screen has colour when it is not', async () => {
    const coloured = replay(100, 30);
    await atTheEnd(coloured);
    coloured.keys('k');
    await coloured.waitFor('offered req/s', 'the Capacity view, with colour');
    expect(coloured.captureEscapes()).toMatch(COLOUR_SGR);

    const plain = replay(100, 30, { NO_COLOR: '1' });
    await atTheEnd(plain);
    expect(plain.captureEscapes()).not.toMatch(COLOUR_SGR);
    // The parts still read, by their letters.
    expect(plain.capture()).toMatch(/│[a-z?]{10,} [\d.]+ ms│/);
    plain.keys('k');
    const pane = await plain.waitFor('offered req/s', 'the Capacity view, without colour');
    expect(plain.captureEscapes()).not.toMatch(COLOUR_SGR);
    expect(pane).toContain('9 hybrid-2');
    plain.keys('q');
    expect(await plain.exitCode()).toBe(0);
  }, 30_000);
});
