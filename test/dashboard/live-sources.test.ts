/**
 * The dashboard's two live sources without a load generator, as a user meets them: `srvlens dashboard` with a real
 * node:http app under the real agent, headless (JSON lines, plain lines, the recording it leaves) and in a terminal
 * (tmux); `srvlens attach --dashboard` on a real Python server. Needs `npm run build` first (npm test does it).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, RecordingRecord, RunStart } from '../../src/vocabulary/index.js';
import { readRecording } from '../../src/recording/reader.js';
import { RecordingIndex } from '../../dashboard/state/recording-index.js';
import { TAG_VAR, newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';
import { exitCode, spawnGathered, until, type GatheredChild } from '../helpers/children.js';
import { knownCostApp } from '../helpers/apps.js';
import { ENTRY } from '../../src/vocabulary/package-paths.js';
import { lineClients, startPython, stopAll } from '../agents/proc/real-servers.js';
import { TmuxSession, requireTmux } from './tmux.js';
import { getRoot as get } from '../helpers/http-get.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const INTERVAL_MS = 500;
/** What the app's handler spends: process (spinning on the CPU), then downstream (a timer, as a backend call). */
const PROCESS_MS = 2;
const DOWNSTREAM_MS = 10;

const children: ChildProcess[] = [];
const sessions: TmuxSession[] = [];
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'srvlens-sources-'));
  dirs.push(dir);
  return dir;
};
let tag = '';
let tagEnv: NodeJS.ProcessEnv = {};

beforeAll(() => {
  requireTmux();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});

afterEach(async () => {
  for (const s of sessions.splice(0)) s.kill();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stopAll();
  // Nothing a test started may outlive it.
  expect(await waitUntil(() => taggedProcesses(tag).length === 0, 5000)).toBe(true);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freshTag(): void {
  ({ tag, env: tagEnv } = newTag());
}

/** A child with its output gathered as text; every process the test starts inherits the tag. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): GatheredChild {
  const child = spawnGathered(args, { ...tagEnv, ...env });
  children.push(child);
  return child;
}

/** A node:http app of the user's, run with the real agent pointed at `collectorUrl`; resolves with its port. */
async function startApp(name: string, collectorUrl: string): Promise<number> {
  const file = join(tempDir(), 'app.mjs');
  writeFileSync(
    file,
    knownCostApp(PROCESS_MS, DOWNSTREAM_MS),
  );
  const app = start(['--import', ENTRY.agent, file], { SRVLENS_COLLECTOR_URL: collectorUrl, SRVLENS_INTERVAL_MS: String(INTERVAL_MS), SRVLENS_SERVER_NAME: name });
  return Number(await until(() => /^(\d+)\n/.exec(app.out())?.[1], `${name} to listen`));
}


const listening = (stderr: string) => /listening on (http:\/\/\S+\/v1\/metrics)/.exec(stderr)?.[1];
const records = (jsonLines: string) => jsonLines.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RecordingRecord);
const framesOf = (list: readonly RecordingRecord[]) => list.filter((r): r is Frame => r.kind === 'frame');
const served = (frames: readonly Frame[]) => frames.reduce((t, f) => t + (f.server?.requests ?? 0), 0);
const stage = (frames: readonly Frame[], name: 'process' | 'downstream' | 'send' | 'server_queue') =>
  frames.reduce((t, f) => ({ sum_ms: t.sum_ms + (f.server?.stages[name].sum_ms ?? 0), entries: t.entries + (f.server?.stages[name].entries ?? 0) }), { sum_ms: 0, entries: 0 });

describe('srvlens dashboard without a terminal', () => {
  it('makes frames of what an app\'s agent measures, as JSON lines and as a recording that replays; SIGTERM ends it with 0', async () => {
    freshTag();
    const out = join(tempDir(), 'dash.srvlens.gz');
    const dash = start([CLI, 'dashboard', '--port', '0', '--interval-ms', String(INTERVAL_MS), '--json', '--out', out]);
    const url = await until(() => listening(dash.err()), 'the collector to listen');
    const port = await startApp('shop', url);
    // The agent's first report opens the run; requests from then on are all in its frames.
    await until(() => framesOf(records(dash.out())).length > 0, 'the first frame');
    const n = 30;
    for (let i = 0; i < n; i++) await get(port);
    await until(() => served(framesOf(records(dash.out()))) >= n, `frames with the ${n} requests`);
    dash.kill('SIGTERM');
    expect(await exitCode(dash), dash.err()).toBe(0);

    const lines = records(dash.out());
    expect(lines[0]).toMatchObject({ kind: 'run-start', run: 0, server: 'shop' });
    const frames = framesOf(lines);
    expect(served(frames)).toBe(n);
    expect(frames.every((f) => f.generator === null && f.interval_ms === INTERVAL_MS && f.index * INTERVAL_MS === f.t_ms)).toBe(true);
    expect(frames.map((f) => f.index)).toEqual(frames.map((_, i) => frames[0].index + i));
    // The parts the app's handler marked, per request: process spins, downstream waits on a timer.
    const processMs = stage(frames, 'process').sum_ms / n;
    const downstreamMs = stage(frames, 'downstream').sum_ms / n;
    expect(processMs).toBeGreaterThan(PROCESS_MS * 0.9);
    expect(downstreamMs).toBeGreaterThan(DOWNSTREAM_MS * 0.95);
    expect(stage(frames, 'send').entries).toBe(n);
    // No generator sent its send time: the queue parts are not measured (no entries), not zero.
    expect(stage(frames, 'server_queue').entries).toBe(0);
    expect(frames.some((f) => f.contexts.some((c) => c.cpu_user_ms + c.cpu_system_ms > 0))).toBe(true);
    expect(dash.err()).toMatch(/srvlens dashboard: 1 server, \d+ frames; recorded in /);

    // The recording holds the same frames, ends complete, and opens for replay.
    const recording = await readRecording(out);
    expect(recording.damage).toBeNull();
    expect(recording.header).toMatchObject({ kind: 'header', interval_ms: INTERVAL_MS });
    // Between its header and its end record, the very records the JSON lines showed: run-start, frames, run-end.
    expect(recording.records.slice(1, -1)).toEqual(lines);
    expect(lines[lines.length - 1]).toMatchObject({ kind: 'run-end', run: 0, ok: true });
    expect(recording.records[recording.records.length - 1]).toMatchObject({ kind: 'end', ok: true });
    const index = await RecordingIndex.open(out);
    try {
      expect(index.runs().map((r) => [r.start.server, r.frames, r.ended?.ok])).toEqual([['shop', frames.length, true]]);
    } finally {
      await index.close();
    }
  });

  it('prints a line per server and interval, and Ctrl-C (SIGINT) ends it with 130', async () => {
    freshTag();
    const dash = start([CLI, 'dashboard', '--port', '0', '--interval-ms', String(INTERVAL_MS)]);
    const url = await until(() => listening(dash.err()), 'the collector to listen');
    expect(dash.err()).toContain('no terminal, so a line per server and interval here');
    const port = await startApp('lines', url);
    await until(() => dash.out().includes('lines:'), 'a line for the app');
    for (let i = 0; i < 5; i++) await get(port);
    await until(() => /lines: [1-9]\d* req .* parts ms\/req: .*process [\d.]+, downstream [\d.]+/.test(dash.out()), 'a line with its requests and parts');
    expect(dash.out()).toMatch(/^\d\d:\d\d:\d\d lines: \d+ req \([\d.]+ req\/s\), server time p50 [\d.]+ p99 [\d.]+ ms, CPU \d+ %/m);
    dash.kill('SIGINT');
    expect(await exitCode(dash)).toBe(130);
  });

  it('exits 2 and says what to do when the port is taken', async () => {
    freshTag();
    const taken = createServer();
    await once(taken.listen(0, '127.0.0.1'), 'listening');
    const port = (taken.address() as { port: number }).port;
    try {
      const dash = start([CLI, 'dashboard', '--port', String(port)]);
      expect(await exitCode(dash)).toBe(2);
      expect(dash.err()).toBe(`srvlens: --port ${port}: already in use on 127.0.0.1 (another collector? OpenTelemetry Collectors listen on 4318 too): pick another port with --port, or 0 for any free one\n`);
    } finally {
      taken.close();
    }
  });
});

describe('the live sources in a terminal', () => {
  const session = (argv: string[]) => {
    const s = new TmuxSession(argv, 100, 30, { [TAG_VAR]: tag });
    sessions.push(s);
    return s;
  };

  it('srvlens dashboard shows each service that reports, with its figures, and q quits with 0', async () => {
    freshTag();
    const t = session([process.execPath, CLI, 'dashboard', '--port', '0', '--interval-ms', String(INTERVAL_MS)]);
    const url = await until(() => listening(t.stderr()), 'the collector to listen');
    const port = await startApp('tmux-shop', url);
    let stop = false;
    const load = (async () => {
      while (!stop) {
        await get(port);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await t.waitFor(/tmux-shop \(unknown\) 1\/1 +no generator: server side only/, 'the Run view of the service');
      const pane = await t.waitFor(/served +[1-9][\d.]* req\/s/, 'the requests it served');
      expect(pane).toContain('offered  no load generator');
      const parts = await t.waitFor(/c process [\d.]+ ms/, 'the parts of its requests');
      expect(parts).toMatch(/d downstream [\d.]+ ms/);
      expect(parts).toMatch(/n network - /);
      await t.waitFor(/main +[\d.]+ %/, 'its contexts');
    } finally {
      stop = true;
      await load;
    }
    t.keys('q');
    expect(await t.exitCode()).toBe(0);
    expect(t.stderr()).toMatch(/srvlens dashboard: 1 server, \d+ frames\n$/);
  });

  it('srvlens attach --dashboard shows the model /proc names and the CPU of a real server, and q quits with 0', async () => {
    freshTag();
    const srv = await startPython('iterative', 0.03);
    const load = lineClients(srv.port, 4);
    try {
      const t = session([process.execPath, CLI, 'attach', '--pid', String(srv.pid), '--dashboard']);
      const pane = await t.waitFor(/\(iterative\) 1\/1 +\/proc: no requests seen/, 'the model named');
      expect(pane).toMatch(new RegExp(`PID ${srv.pid} \\(python3\\)`));
      expect(pane).toContain('looks like: iterative');
      expect(pane).toMatch(/up to \d+ waited in the accept queue/);
      expect(pane).toMatch(/CPU +[\d.]+ % +[\d.]+ %/);
      expect(pane).toMatch(new RegExp(`${srv.pid} python3 +[\\d.]+ % +[\\d.]+ % +[\\d.]+ %`));
      expect(pane).toMatch(/accept q length +\d+ conn/);
      expect(pane).toContain('latency: not seen from /proc');
      t.keys('q');
      expect(await t.exitCode()).toBe(0);
      expect(t.stderr()).toBe('');
    } finally {
      await load.stop();
    }
  });
});
