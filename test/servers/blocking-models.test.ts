/**
 * The blocking models, by the order and overlap of real requests on real sockets, and by what /proc says their
 * threads and processes do. The backend answers in 200 ms, so a serial server shows gaps of one backend call
 * between responses, and concurrent ones do not; no assertion depends on how fast this machine is. Threads and
 * children start from dist/ (`npx tsc -p .` first; `npm test` does it).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { monoMs } from '../../src/vocabulary/clock.js';
import { STAGE } from '../../src/vocabulary/parts.js';
import { AGENT_HOOKS, type AgentHooks } from '../../src/vocabulary/stage-hook.js';
import { type RunningBackend, startBackend } from '../../src/servers/backend/backend.js';
import { SyncBackendClient } from '../../src/servers/blocking/backend-client-sync.js';
import { blocking } from '../../src/servers/native.js';
import { serveConnection, servingContext } from '../../src/servers/blocking/serve-connection.js';
import type { RunningServer } from '../../src/servers/models/model-server.js';
import { getModel } from '../../src/servers/models/registry.js';
import { resolveWorkload } from '../../src/servers/workload/workload.js';
import { newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';

const BACKEND_MS = 200;
/** Timers never fire early by more than a millisecond or so; this leaves room for that and nothing else. */
const ONE_CALL = BACKEND_MS - 20;
const workload = { parse_us: 20, process_us: 100, transform_us: 20, backend_calls: 1, response_bytes: 2000 };

interface Served {
  status: number;
  pid: number;
  tid: number;
  /** When the whole response had arrived (shared monotonic clock). */
  doneMs: number;
  body: string;
}

/** One request on a new connection that closes after it: a short-lived client. */
function get(port: number): Promise<Served> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          pid: Number(res.headers['x-srvlens-pid']),
          tid: Number(res.headers['x-srvlens-tid']),
          doneMs: monoMs(),
          body: Buffer.concat(chunks).toString('latin1'),
        }),
      );
    });
  });
}

/** Sends raw bytes on one connection and collects everything until the server closes it. */
async function exchange(port: number, bytes: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(bytes);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** Status lines of the responses in a byte stream (a body without a final newline runs into the next one). */
const statusLines = (reply: string): string[] => [...reply.matchAll(/HTTP\/1\.1 \d{3} [^\r]*(?=\r\n)/g)].map((m) => m[0]);

function threadFile(pid: number, tid: number, file: 'comm' | 'stat' | 'status'): string {
  return readFileSync(`/proc/${pid}/task/${tid}/${file}`, 'utf8');
}

function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      return [threadFile(pid, Number(tid), 'comm').trim()];
    } catch {
      return []; // ended while we looked
    }
  });
}

/** Threads of ours left in this process: anything named like a blocking model's thread. */
const OUR_THREADS = /^(iter|pool-\d+|conn-\d+|acceptor)$/;
const leftoverThreads = (): string[] => threadNames(process.pid).filter((n) => OUR_THREADS.test(n));

/** Live (not zombie) children of this process started by a model (titled srvlens-server:MODEL:ROLE). */
function modelChildren(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8').split(') ')[1];
        return stat[0] !== 'Z' && Number(stat.split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
}

/** Entries forked by the tests themselves, killed after each test even if it timed out. */
const forked: ChildProcess[] = [];

function forkEntry(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = fork(join(import.meta.dirname, '../../dist/src/servers', entry), [], {
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  forked.push(child);
  return child;
}

/** The child's 'ready' message; fails at once, naming the exit, if it ends first. */
function ready(child: ChildProcess): Promise<{ port: number }> {
  return new Promise((resolve, reject) => {
    child.on('message', (m: { type: string; port: number }) => m.type === 'ready' && resolve(m));
    child.on('exit', (code, signal) => reject(new Error(`child exited (${signal ?? code}) before it was ready`)));
  });
}

const sorted = (rs: Served[]): Served[] => [...rs].sort((a, b) => a.doneMs - b.doneMs);

let backend: RunningBackend;
let server: RunningServer | undefined;

beforeAll(async () => {
  backend = await startBackend({ latency: { dist: 'fixed', ms: BACKEND_MS }, limit: 64 });
});
afterAll(async () => {
  await backend?.close();
});
afterEach(async () => {
  for (const child of forked.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await server?.close();
  server = undefined;
  expect(await waitUntil(() => leftoverThreads().length === 0, 5000), `threads left: ${leftoverThreads()}`).toBe(true);
  expect(await waitUntil(() => modelChildren().length === 0, 5000), `children left: ${modelChildren()}`).toBe(true);
});

async function start(model: string, size?: Record<string, number>, w: object = workload): Promise<number> {
  server = await getModel(model).start({ workload: w, size, backend: { host: '127.0.0.1', port: backend.port } });
  return server.port;
}

describe('iterative', () => {
  it('serves two simultaneous clients one after the other, on one thread named iter', async () => {
    const port = await start('iterative');
    const [a, b] = sorted(await Promise.all([get(port), get(port)]));
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.doneMs - a.doneMs).toBeGreaterThanOrEqual(ONE_CALL);
    expect(a.tid).toBe(b.tid);
    expect(a.pid).toBe(process.pid);
    expect(a.tid).not.toBe(process.pid); // a worker thread: the main thread stays free for close() and signals
    expect(threadFile(a.pid, a.tid, 'comm').trim()).toBe('iter');
  });

  it('sleeps in the kernel while it waits on the backend: voluntary switches, state S, little CPU', async () => {
    const port = await start('iterative');
    const { tid } = await get(port);
    const counters = (): { voluntary: number; state: string; cpuTicks: number } => {
      const status = threadFile(process.pid, tid, 'status');
      const stat = threadFile(process.pid, tid, 'stat').split(') ')[1].split(' ');
      return {
        voluntary: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]),
        state: stat[0],
        // utime + stime, fields 14 and 15 of stat (12 and 13 after the command)
        cpuTicks: Number(stat[11]) + Number(stat[12]),
      };
    };
    const before = counters();
    const pending = get(port);
    await new Promise((r) => setTimeout(r, BACKEND_MS / 2));
    const during = counters();
    await pending;
    expect(during.state).toBe('S');
    expect(during.voluntary).toBeGreaterThan(before.voluntary);
    // A thread spinning through the wait would burn ~20 ticks (CLK_TCK 100) over 200 ms; a sleeping one ~0.
    expect(counters().cpuTicks - before.cpuTicks).toBeLessThan(10);
  });

  it('serves pipelined keep-alive requests in order on one connection, and closes when asked', async () => {
    const port = await start('iterative', undefined, { ...workload, backend_calls: 0 });
    const request = (path: string, close = false) =>
      `GET ${path} HTTP/1.1\r\nhost: x\r\n${close ? 'connection: close\r\n' : ''}\r\n`;
    const reply = await exchange(port, request('/a') + request('/b') + request('/c', true));
    expect(statusLines(reply)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(reply.match(/^connection: \S+/gm)).toEqual(['connection: keep-alive', 'connection: keep-alive', 'connection: close']);
  });

  it('answers a malformed request with 400 and closes the connection, and goes on serving', async () => {
    const port = await start('iterative', undefined, { ...workload, backend_calls: 0 });
    const reply = await exchange(port, 'GARBAGE\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toMatch(/connection: close/);
    expect((await get(port)).status).toBe(200);
  });
});

describe('thread-pool', () => {
  it('serves K+1 simultaneous clients of K threads: K together, one a backend call later', async () => {
    const K = 3;
    const port = await start('thread-pool', { threads: K });
    const rs = sorted(await Promise.all(Array.from({ length: K + 1 }, () => get(port))));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    const firstK = rs.slice(0, K);
    const last = rs[K];
    const waited = last.doneMs - firstK[K - 1].doneMs;
    expect(waited).toBeGreaterThanOrEqual(ONE_CALL);
    expect(firstK[K - 1].doneMs - firstK[0].doneMs).toBeLessThan(waited);
    // K different threads served the first K; the last was served by one of them once it was free.
    const tids = new Set(firstK.map((r) => r.tid));
    expect(tids.size).toBe(K);
    expect(tids.has(last.tid)).toBe(true);
    expect([...tids].map((tid) => threadFile(process.pid, tid, 'comm').trim()).sort()).toEqual(['pool-0', 'pool-1', 'pool-2']);
  });

  it('refuses a size it does not take, naming it', async () => {
    await expect(start('thread-pool', { thread: 4 })).rejects.toThrow(/thread-pool takes size 'threads', not 'thread'/);
    await expect(start('thread-pool', { threads: 0 })).rejects.toThrow(/threads must be an integer from 1/);
  });
});

describe('thread-per-connection', () => {
  it('serves each connection on a new thread, gone when the connection ends', async () => {
    const port = await start('thread-per-connection', undefined, { ...workload, backend_calls: 0 });
    const rs: Served[] = [];
    for (let i = 0; i < 3; i++) rs.push(await get(port));
    expect(rs.every((r) => r.status === 200 && r.pid === process.pid)).toBe(true);
    expect(new Set(rs.map((r) => r.tid)).size).toBe(3);
    const alive = () => rs.filter((r) => readdirSync(`/proc/${process.pid}/task`).includes(String(r.tid)));
    expect(await waitUntil(() => alive().length === 0, 5000)).toBe(true);
  });

  it('at max_threads, makes further clients wait for a thread to end', async () => {
    const port = await start('thread-per-connection', { max_threads: 2 });
    const rs = sorted(await Promise.all([get(port), get(port), get(port)]));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    // The third is accepted only once a thread has ended, so it finishes at least a backend call after the first.
    // (Not after the second: thread starts vary by tens of ms on a busy machine, and the second's may be slow.)
    expect(rs[2].doneMs - rs[0].doneMs).toBeGreaterThanOrEqual(ONE_CALL);
    expect(new Set(rs.map((r) => r.tid)).size).toBe(3);
  });

  it('closes unserved, and counts, the queued connections whose clients have gone (no thread, no backend call)', async () => {
    const port = await start('thread-per-connection', { max_threads: 1 });
    const first = get(port);
    expect(await waitUntil(() => threadNames(process.pid).some((n) => /^conn-\d+$/.test(n)), 5000)).toBe(true);
    // Five clients queue behind the only thread, each sending its request and closing (FIN) while it waits.
    const gone = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const socket = net.connect(port, '127.0.0.1');
        await once(socket, 'connect');
        socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        socket.on('error', () => undefined);
        return socket;
      }),
    );
    const live = get(port);
    const [a, b] = await Promise.all([first, live]);
    expect([a.status, b.status]).toEqual([200, 200]);
    // Served right after the first: not behind five backend calls made for nobody.
    expect(b.doneMs - a.doneMs).toBeLessThan(3 * ONE_CALL);
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    try {
      await server!.close();
    } finally {
      spy.mockRestore();
    }
    for (const socket of gone) socket.destroy();
    expect(written.join('')).toContain('srvlens: 5 queued connections were closed unserved');
  });

  it('names each connection thread conn-N while it serves', async () => {
    const port = await start('thread-per-connection');
    const pending = get(port);
    expect(await waitUntil(() => threadNames(process.pid).some((n) => /^conn-\d+$/.test(n)), 5000)).toBe(true);
    expect(threadNames(process.pid)).toContain('acceptor');
    expect((await pending).status).toBe(200);
  });
});

describe('prefork', () => {
  it('spreads 40 short-lived connections over its processes, each titled with its model and role', async () => {
    const port = await start('prefork', { processes: 3 }, { ...workload, backend_calls: 0 });
    const rs: Served[] = [];
    for (let round = 0; round < 10; round++) rs.push(...(await Promise.all([get(port), get(port), get(port), get(port)])));
    expect(rs).toHaveLength(40);
    expect(rs.every((r) => r.status === 200)).toBe(true);
    const pids = [...new Set(rs.map((r) => r.pid))];
    expect(pids.length).toBeGreaterThan(1);
    expect(pids).not.toContain(process.pid);
    // One thread per process: the main thread serves (tid = pid), named after its role.
    expect(rs.every((r) => r.tid === r.pid)).toBe(true);
    for (const pid of pids) {
      expect(cmdline(pid)).toMatch(/^srvlens-server:prefork:worker-[0-2]$/);
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toMatch(/^prefork-[0-2]$/);
    }
    expect(modelChildren().sort()).toEqual(expect.arrayContaining(pids.sort()));
  });

  it('children exit with their parent, even one killed with SIGKILL', async () => {
    const { tag, env } = newTag();
    const config = { model: 'prefork', size: { processes: 2 }, backend: { host: '127.0.0.1', port: backend.port } };
    const parent = forkEntry('serve-main.js', { ...env, SRVLENS_SERVE_CONFIG: JSON.stringify(config) });
    const { port } = await ready(parent);
    expect((await get(port)).status).toBe(200);
    expect(taggedProcesses(tag)).toHaveLength(3);
    parent.kill('SIGKILL');
    expect(await waitUntil(() => taggedProcesses(tag).length === 0, 5000), JSON.stringify(taggedProcesses(tag))).toBe(true);
  });
});

describe('fork-per-connection', () => {
  it('serves each connection in a new process, titled conn-N, that exits with it', async () => {
    const port = await start('fork-per-connection');
    const pending = get(port);
    const serving = () => modelChildren().filter((pid) => /^srvlens-server:fork-per-connection:conn-\d+$/.test(cmdline(pid)));
    expect(await waitUntil(() => serving().length === 1, 10_000)).toBe(true);
    const first = await pending;
    const rs = [first, await get(port), await get(port)];
    expect(rs.every((r) => r.status === 200 && r.tid === r.pid)).toBe(true);
    expect(new Set(rs.map((r) => r.pid)).size).toBe(3);
    expect(rs.map((r) => r.pid)).not.toContain(process.pid);
    expect(await waitUntil(() => modelChildren().length === 0, 5000)).toBe(true);
  });
});

describe('serveConnection on the calling thread', () => {
  const marks: [string, number][] = [];
  const g = globalThis as Record<symbol, unknown>;
  beforeAll(() => {
    const hooks: AgentHooks = {
      begin: () => void marks.push(['begin', 0]),
      stage: (_h, stage) => void marks.push(['stage', stage]),
      end: () => void marks.push(['end', 0]),
      context: () => undefined,
    };
    g[AGENT_HOOKS] = hooks;
  });
  afterAll(() => {
    delete g[AGENT_HOOKS];
  });

  it('marks the workload stages of each pipelined request in order and answers them in order', async () => {
    // The backend must run in another process: this thread blocks in serveConnection.
    const backendMain = forkEntry('backend/backend-main.js', {
      ...newTag().env,
      SRVLENS_BACKEND_CONFIG: JSON.stringify({ latency: { dist: 'fixed', ms: 1 }, limit: 4 }),
    });
    const backendClient = SyncBackendClient.connect({ host: '127.0.0.1', port: (await ready(backendMain)).port });
    const api = blocking();
    const { fd: listenFd, port } = api.listen('127.0.0.1', 0, 4);
    const client = api.connect('127.0.0.1', port);
    const conn = api.accept(listenFd);
    api.close(listenFd);
    // Both requests sit in the kernel's buffer before the server reads: they arrive pipelined.
    api.sendAll(client, Buffer.from('GET /1 HTTP/1.1\r\nhost: x\r\n\r\nGET /2 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
    serveConnection(conn, 0, servingContext(resolveWorkload({ ...workload, backend_calls: 2 }), backendClient));
    backendClient.close();
    api.close(conn);

    const perRequest = ['begin', STAGE.parse, STAGE.process, STAGE.downstream, STAGE.transform, STAGE.send, 'end'];
    expect(marks.map(([kind, stage]) => (kind === 'stage' ? stage : kind))).toEqual([...perRequest, ...perRequest]);
    const buf = Buffer.alloc(16384);
    let reply = '';
    for (let n; (n = api.recv(client, buf, 0, buf.length)) > 0; ) reply += buf.toString('latin1', 0, n);
    api.close(client);
    expect(statusLines(reply)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(reply).toContain(`x-srvlens-tid: ${process.pid}`);
  });

  it('answers 502 naming the backend when it is gone, and closes', async () => {
    const api = blocking();
    // A backend that accepts, then closes without answering.
    const fake = api.listen('127.0.0.1', 0, 4);
    const backendClient = SyncBackendClient.connect({ host: '127.0.0.1', port: fake.port });
    api.close(api.accept(fake.fd));
    api.close(fake.fd);
    const { fd: listenFd, port } = api.listen('127.0.0.1', 0, 4);
    const client = api.connect('127.0.0.1', port);
    const conn = api.accept(listenFd);
    api.close(listenFd);
    api.sendAll(client, Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    serveConnection(conn, 0, servingContext(resolveWorkload(workload), backendClient));
    api.close(conn);
    const buf = Buffer.alloc(4096);
    let reply = '';
    for (let n; (n = api.recv(client, buf, 0, buf.length)) > 0; ) reply += buf.toString('latin1', 0, n);
    api.close(client);
    expect(reply).toMatch(/^HTTP\/1\.1 502 /);
    expect(reply).toMatch(/backend 127\.0\.0\.1:\d+ closed the connection/);
    expect(reply).toMatch(/connection: close/);
  });
});
