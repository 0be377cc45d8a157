import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import type { GeneratorConfig, MixEntry, PhaseConfig } from '../../src/load/config.js';
import { runGenerator, type GeneratorSummary } from '../../src/load/generate.js';
import type { GeneratorInterval } from '../../src/vocabulary/frames.js';
import { closeListeners, listen } from '../helpers/listen.js';

afterEach(closeListeners);

function config(port: number, phases: PhaseConfig[], over: Partial<GeneratorConfig> = {}): GeneratorConfig {
  return { target: { host: '127.0.0.1', port }, request: { method: 'GET', path: '/x' }, connections: 8, timeout_ms: 2000, interval_ms: 500, phases, ...over };
}

async function run(c: GeneratorConfig): Promise<{ summary: GeneratorSummary; intervals: GeneratorInterval[] }> {
  const intervals: GeneratorInterval[] = [];
  const summary = await runGenerator(c, (_i, _t, data) => intervals.push(data));
  return { summary, intervals };
}

const total = (list: GeneratorInterval[], f: (d: GeneratorInterval) => number) => list.reduce((a, d) => a + f(d), 0);
const count = (hdr: string) => decodeFromCompressedBase64(hdr).totalCount;

describe('closed loop', () => {
  it('keeps at most N users in flight, paced by the server and the think time, measured from each send', async () => {
    let active = 0;
    let maxActive = 0;
    const port = await listen(
      http.createServer((_req, res) => {
        maxActive = Math.max(maxActive, ++active);
        setTimeout(() => {
          active--;
          res.end('ok');
        }, 20);
      }),
    );
    const phases: PhaseConfig[] = [{ name: 'users', kind: 'closed', users: 4, think_ms: 30, duration_s: 2, warmup_s: 0.5 }];
    const { summary, intervals } = await run(config(port, phases, { connections: 2 }));
    // Never more than the users; that all 4 are in service at one instant depends on how their cycles drift (each is
    // in service 40 % of the time), so the users' concurrency is shown by the count below, which one user cannot reach.
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(maxActive).toBeGreaterThanOrEqual(2);
    // Each user's cycle is 20 ms of service plus 30 ms of thinking (plus a little): at most 4 * 2500 / 50 = 200.
    expect(summary.completed).toBeGreaterThan(120);
    expect(summary.completed).toBeLessThanOrEqual(200);
    expect(summary).toMatchObject({ errors: 0, due: summary.completed });
    const phase = intervals.filter((d) => d.phase === 'users');
    expect(phase.map((d) => d.warmup ?? false)).toEqual([true, false, false, false, false]);
    for (const d of phase) {
      expect(d).toMatchObject({ closed_loop: true, users: 4, target_rps: 0, sum_send_wait_ms: 0 });
      // No intended time: the corrected histogram is the uncorrected one.
      expect(d.latency_hdr).toBe(d.uncorrected_hdr);
    }
  });
});

describe('a new connection per request', () => {
  it('opens one connection per request, asks the server to close it, and counts the connect in send_wait', async () => {
    let sockets = 0;
    let closeAsked = 0;
    const server = http.createServer((req, res) => {
      if (req.headers.connection === 'close') closeAsked++;
      res.end('ok');
    });
    server.on('connection', () => sockets++);
    const port = await listen(server);
    const { summary, intervals } = await run(config(port, [{ name: 'n', kind: 'constant', rate: 100, duration_s: 1 }], { connection: 'new' }));
    expect(summary).toMatchObject({ due: 100, completed: 100, errors: 0 });
    expect(sockets).toBe(100);
    expect(closeAsked).toBe(100);
    expect(total(intervals, (d) => d.connects ?? 0)).toBe(100);
    expect(total(intervals, (d) => count(d.connect_hdr!))).toBe(100);
    // The connect happens after the intended time and before the write: send_wait holds it.
    expect(total(intervals, (d) => d.sum_send_wait_ms)).toBeGreaterThanOrEqual(total(intervals, (d) => d.sum_connect_ms ?? 0));
    expect(total(intervals, (d) => d.sum_connect_ms ?? 0)).toBeGreaterThan(0);
  });
});

describe('slow clients', () => {
  it('trickles their heads over the set time beside the load, and keeps them out of its figures', async () => {
    // A raw server, so that it can time each head from its first byte to its blank line.
    const heads: { slow: boolean; ms: number }[] = [];
    const port = await listen(
      net.createServer((socket) => {
        let buf = '';
        let first = 0;
        socket.on('data', (chunk) => {
          if (buf === '') first = performance.now();
          buf += chunk.toString('latin1');
          if (!buf.includes('\r\n\r\n')) return;
          heads.push({ slow: buf.includes('srvlens-slow-client'), ms: performance.now() - first });
          buf = '';
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        });
        socket.on('error', () => undefined);
      }),
    );
    const c = config(port, [{ name: 'p', kind: 'constant', rate: 100, duration_s: 2 }], { slow_clients: { connections: 3, trickle_ms: 400, chunks: 5 } });
    const { summary, intervals } = await run(c);
    expect(summary).toMatchObject({ due: 200, completed: 200, errors: 0 });
    const slow = heads.filter((h) => h.slow);
    // 3 clients, one 400 ms request after another, for 2 s: about 15 (the last may be cut off by the end).
    expect(slow.length).toBeGreaterThanOrEqual(9);
    expect(slow.length).toBeLessThanOrEqual(15);
    for (const h of slow) expect(h.ms).toBeGreaterThan(350);
    for (const h of heads.filter((x) => !x.slow)) expect(h.ms).toBeLessThan(50);
    const completedSlow = total(intervals, (d) => d.slow?.completed ?? 0);
    expect(completedSlow).toBeGreaterThanOrEqual(slow.length - 3);
    expect(Math.max(...intervals.map((d) => d.slow?.open ?? 0))).toBe(3);
    // The measured requests are the fast ones only.
    expect(total(intervals, (d) => count(d.latency_hdr))).toBe(200);
    expect(decodeFromCompressedBase64(intervals[1].latency_hdr).getValueAtPercentile(99)).toBeLessThan(100_000);
  });
});

describe('idle connections', () => {
  it('holds them open beside the load from before the first phase', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    let open = 0;
    let maxOpen = 0;
    server.on('connection', (s) => {
      maxOpen = Math.max(maxOpen, ++open);
      s.on('close', () => open--);
    });
    const port = await listen(server);
    const { summary, intervals } = await run(config(port, [{ name: 'p', kind: 'constant', rate: 50, duration_s: 1 }], { connections: 2, idle_connections: 300 }));
    expect(summary).toMatchObject({ due: 50, completed: 50, errors: 0 });
    expect(summary.notes).toBeUndefined();
    expect(intervals.filter((d) => d.phase === 'p').map((d) => d.idle_open)).toEqual([300, 300]);
    expect(maxOpen).toBeGreaterThanOrEqual(302);
    // All of them are closed when the run ends.
    await new Promise((r) => setTimeout(r, 200));
    expect(open).toBe(0);
  });
});

describe('a request mix', () => {
  it('sends each entry by its weight, with its path and workload in the query string, and reports each apart', async () => {
    const paths = new Map<string, number>();
    const port = await listen(
      http.createServer((req, res) => {
        paths.set(req.url!, (paths.get(req.url!) ?? 0) + 1);
        res.end('ok');
      }),
    );
    const mix: MixEntry[] = [
      { name: 'cheap', weight: 3, workload: { process_us: 100 } },
      { name: 'costly', weight: 1, path: '/report', workload: { process_us: 5000, backend_calls: 2 } },
    ];
    const { summary, intervals } = await run(config(port, [{ name: 'p', kind: 'constant', rate: 400, duration_s: 1 }], { mix, seed: 3 }));
    expect(summary).toMatchObject({ due: 400, completed: 400, errors: 0 });
    expect([...paths.keys()].sort()).toEqual(['/report?process_us=5000&backend_calls=2', '/x?process_us=100']);
    const cheap = paths.get('/x?process_us=100')!;
    expect(cheap).toBeGreaterThan(260);
    expect(cheap).toBeLessThan(340);
    const sent = [0, 1].map((i) => total(intervals, (d) => d.mix![i].sent));
    expect(sent).toEqual([cheap, 400 - cheap]);
    expect(total(intervals, (d) => count(d.mix![1].latency_hdr))).toBe(400 - cheap);
  });
});

describe('worker threads', () => {
  it('spreads a ramp over threads and merges their intervals: the same counts as one thread would send', async () => {
    const traces = new Set<string>();
    const port = await listen(
      http.createServer((req, res) => {
        traces.add(String(req.headers.traceparent));
        res.end('ok');
      }),
    );
    const { summary, intervals } = await run(config(port, [{ name: 'r', kind: 'ramp', from: 100, to: 300, duration_s: 2 }], { threads: 2 }));
    expect(summary).toMatchObject({ due: 400, completed: 400, errors: 0, threads: 2 });
    const ramp = intervals.filter((d) => d.phase === 'r');
    expect(ramp.map((d) => d.due)).toEqual([63, 87, 113, 137]);
    expect(ramp.map((d) => d.target_rps)).toEqual([125, 175, 225, 275]);
    for (const d of ramp) {
      expect(d.threads).toBe(2);
      expect(count(d.latency_hdr)).toBe(d.completed);
    }
    expect(traces.size).toBe(400);
  });
});

describe('idle connections beyond the open-file limit', () => {
  it('opens what the limit allows, says so, and still runs the load', async () => {
    const main = fileURLToPath(new URL('../../dist/src/load/generator-process.js', import.meta.url));
    const port = await listen(http.createServer((_req, res) => res.end('ok')));
    // The generator's own process under `ulimit -n 300` (soft and hard: Node cannot raise it back).
    const child = spawn('sh', ['-c', 'ulimit -n 300 && exec "$0" "$1"', process.execPath, main], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages: { type: string; data?: GeneratorInterval; summary?: GeneratorSummary }[] = [];
    child.on('message', (m) => messages.push(m as (typeof messages)[number]));
    child.send({ type: 'start', config: config(port, [{ name: 'p', kind: 'constant', rate: 50, duration_s: 1 }], { connections: 2, idle_connections: 1000 }) });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const summary = messages.at(-1)!.summary!;
    expect(summary).toMatchObject({ due: 50, completed: 50, errors: 0 });
    expect(summary.notes).toEqual([expect.stringMatching(/^only \d+ of 1000 idle connections: the generator may open 300 files \(ulimit -n\)/)]);
    const opened = Number(/^only (\d+)/.exec(summary.notes![0])![1]);
    expect(opened).toBeGreaterThan(100);
    expect(opened).toBeLessThan(300);
    const idle = messages.flatMap((m) => (m.type === 'interval' ? [m.data!.idle_open] : []));
    expect(idle[0]).toBe(opened);
  });
});
