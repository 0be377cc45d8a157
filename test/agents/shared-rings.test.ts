/**
 * Children whose parent's agent reads their rings (agents/node/shared-rings.ts), as real processes under the real
 * agent: a parent forks three node:http children, one of which also serves from a worker thread, and one of which
 * is configured as another service. Held against what the test counts and reads itself: the requests it sent to each
 * child, each child's threads in /proc (no agent thread where the parent reads it), its CPU in /proc/PID/stat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { AGENT_THREAD_COMM } from '../../src/vocabulary/index.js';
import { ENTRY } from '../../src/vocabulary/package-paths.js';
import { waitUntil } from '../helpers/processes.js';
import { getRoot as get } from '../helpers/http-get.js';

// Eight intervals are what a ring holds: at 500 ms an agent thread starved by a busy machine has 4 s to catch up.
const INTERVAL_MS = 500;
const TICK_MS = 10; // USER_HZ 100

const CHILD = `import http from 'node:http';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
const spin = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
const serve = (report) => {
  const server = http.createServer((req, res) => { spin(2); res.end('ok'); });
  server.listen(0, '127.0.0.1', () => report(server.address().port));
};
if (isMainThread) {
  const ports = [];
  const ready = (port) => { ports.push(port); if (ports.length === (process.argv[2] === 'worker' ? 2 : 1)) process.send({ pid: process.pid, ports }); };
  serve(ready);
  if (process.argv[2] === 'worker') new Worker(new URL(import.meta.url)).on('message', ready);
  process.on('message', (m) => { if (m === 'exit') process.exit(0); });
} else serve((port) => parentPort.postMessage(port));
`;

const PARENT = `import { fork } from 'node:child_process';
const child = new URL('./child.mjs', import.meta.url);
const kids = [
  fork(child, ['plain']),
  fork(child, ['worker']),
  fork(child, ['plain'], { env: { ...process.env, SRVLENS_SERVER_NAME: 'other' } }),
];
for (const [i, k] of kids.entries()) k.on('message', (m) => console.log(JSON.stringify({ i, ...m })));
process.stdin.on('data', (d) => { for (const line of String(d).trim().split('\\n')) kids[Number(line)].send('exit'); });
`;


const comms = (pid: number) => readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
const procCpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
};

describe('children whose rings the parent agent reads', () => {
  let collector: Collector;
  let parent: ChildProcess;
  const received: AgentInterval[] = [];
  const kids: { i: number; pid: number; ports: number[] }[] = [];
  /** The parent's and its children's (they inherit it). */
  let stderr = '';

  beforeAll(async () => {
    collector = await startCollector({ intervalMs: INTERVAL_MS, onAgentIntervals: (l) => received.push(...l) });
    const dir = mkdtempSync(join(tmpdir(), 'srvlens-shared-rings-'));
    writeFileSync(join(dir, 'child.mjs'), CHILD);
    writeFileSync(join(dir, 'parent.mjs'), PARENT);
    parent = spawn(process.execPath, ['--import', ENTRY.agent, join(dir, 'parent.mjs')], {
      env: { ...process.env, SRVLENS_COLLECTOR_URL: collector.metricsUrl, SRVLENS_INTERVAL_MS: String(INTERVAL_MS), SRVLENS_SERVER_NAME: 'test' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    parent.stderr!.on('data', (d) => (stderr += d));
    let out = '';
    parent.stdout!.on('data', (d) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) kids.push(JSON.parse(l));
    });
    expect(await waitUntil(() => kids.length === 3, 20_000), 'the children started').toBe(true);
    kids.sort((a, b) => a.i - b.i);
  }, 30_000);

  afterAll(async () => {
    // Forked children outlive their parent: each is stopped too.
    for (const k of kids) {
      try {
        process.kill(k.pid);
      } catch {
        // gone already (the one the second test stops)
      }
    }
    parent?.kill();
    await collector?.close();
  });

  it('reports each child as its own process with every request, no agent thread in it, its CPU as /proc has it', async () => {
    const [plain, worker, other] = kids;
    const sent = new Map<number, number>([[plain.pid, 30], [worker.pid, 40], [other.pid, 10]]);
    for (let i = 0; i < 30; i++) await get(plain.ports[0]);
    for (let i = 0; i < 20; i++) await get(worker.ports[0]);
    for (let i = 0; i < 20; i++) await get(worker.ports[1]);
    for (let i = 0; i < 10; i++) await get(other.ports[0]);

    // The parent's agent reads the first two: they run no agent thread. The third is another service: it keeps its own.
    expect(comms(plain.pid)).not.toContain(AGENT_THREAD_COMM);
    expect(comms(worker.pid)).not.toContain(AGENT_THREAD_COMM);
    expect(comms(other.pid)).toContain(AGENT_THREAD_COMM);

    const requestsOf = (pid: number) => received.filter((a) => a.pid === pid).reduce((s, a) => s + a.contexts.reduce((t, c) => t + c.requests, 0), 0);
    const done = () => [...sent].every(([pid, n]) => requestsOf(pid) === n);
    // A child's lost requests are counted in its parent's drops: said beside the counts.
    const dropped = () => received.reduce((s, a) => s + a.dropped, 0);
    expect(await waitUntil(done, 15_000), `${JSON.stringify([...sent].map(([pid]) => requestsOf(pid)))}, dropped ${dropped()}`).toBe(true);

    const intervals = (pid: number) => received.filter((a) => a.pid === pid);
    expect(new Set(intervals(plain.pid).map((a) => a.service))).toEqual(new Set(['test']));
    expect(new Set(intervals(other.pid).map((a) => a.service))).toEqual(new Set(['other']));
    // The worker thread's requests are in its own context, under its child's pid.
    const byThread = new Map<number, number>();
    for (const a of intervals(worker.pid)) for (const c of a.contexts) if (c.requests) byThread.set(c.tid, (byThread.get(c.tid) ?? 0) + c.requests);
    expect([...byThread.values()].sort()).toEqual([20, 20]);
    expect(byThread.has(worker.pid)).toBe(true);
    // Named as the child's own recorders name them (the ring carries the name).
    const names = new Set(intervals(worker.pid).flatMap((a) => a.contexts.filter((c) => c.requests > 0).map((c) => c.name)));
    expect([...names].sort()).toEqual(['main', 'worker-1']);
    // Each child's resident set, as the process it is.
    for (const k of [plain, worker]) expect(intervals(k.pid).at(-1)!.rss_bytes).toBeGreaterThan(10 * 2 ** 20);

    // CPU: every thread's, summed over its intervals, against /proc's count for the process (10 ms ticks; a thread
    // that exited between two reads loses what it ran since the last one).
    const settled = intervals(plain.pid).length;
    await waitUntil(() => intervals(plain.pid).length >= settled + 3, 10_000);
    for (const k of [plain, worker]) {
      const reported = intervals(k.pid).reduce((s, a) => s + a.contexts.reduce((t, c) => t + c.cpu_user_ms + c.cpu_system_ms, 0), 0);
      const truth = procCpuMs(k.pid);
      expect(Math.abs(reported - truth), `child ${k.i}: ${reported.toFixed(0)} ms reported, ${truth} ms in /proc`).toBeLessThan(0.1 * truth + 3 * TICK_MS);
    }
  }, 60_000);

  it("counts what a child served just before it exited, from its ring after it is gone", async () => {
    const plain = kids[0];
    const before = received.filter((a) => a.pid === plain.pid).reduce((s, a) => s + a.contexts.reduce((t, c) => t + c.requests, 0), 0);
    for (let i = 0; i < 15; i++) await get(plain.ports[0]);
    parent.stdin!.write('0\n');
    expect(await waitUntil(() => !readdirSync('/proc').includes(String(plain.pid)), 5000), 'the child exited').toBe(true);
    const count = () => received.filter((a) => a.pid === plain.pid).reduce((s, a) => s + a.contexts.reduce((t, c) => t + c.requests, 0), 0);
    expect(await waitUntil(() => count() === before + 15, 10_000), `${count() - before} of 15`).toBe(true);
  }, 30_000);

  it('says so on stderr, once, when the parent is gone and its requests go unread', async () => {
    const worker = kids[1];
    parent.kill('SIGKILL');
    // Eight intervals on, the child reuses a bucket nobody read: its requests are counted as dropped, and said.
    for (let i = 0; i < 80 && !stderr.includes('has not read its requests'); i++) {
      await get(worker.ports[0]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(stderr).toContain(`process ${worker.pid}'s parent`);
    expect(stderr.split('has not read its requests').length - 1).toBe(1);
  }, 30_000);
});
