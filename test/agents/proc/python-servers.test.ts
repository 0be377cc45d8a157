/**
 * The /proc agent on Python's standard-library servers: real processes on loopback, driven by a few concurrent
 * clients. Assertions are on the model named and on counts, never on how fast anything ran.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { detectModel } from '../../../src/analysis/detect-model.js';
import { sampleTree } from '../../../agents/proc/sample-tree.js';
import type { WindowSummary } from '../../../src/vocabulary/window-summary.js';
import { waitUntil } from '../../helpers/processes.js';
import { lineClients, openConnections, startPython, stopAll } from './real-servers.js';

afterEach(stopAll);

const why = (w: WindowSummary) => detectModel(w).evidence.join('\n');

/** Samples `pid` for `ms` while `clients` keep a server busy (after each has had at least one reply). */
async function underLoad(pid: number, port: number, clients: number, ms: number, intervalMs = 100) {
  const load = lineClients(port, clients);
  await waitUntil(() => load.completed() >= clients, 10_000);
  const w = await sampleTree({ pid, durationMs: ms, intervalMs });
  await load.stop();
  return w;
}

describe('the /proc agent on Python socketserver servers', () => {
  it('names socketserver.TCPServer iterative: one thread, one connection at a time, the rest in the accept queue', async () => {
    const srv = await startPython('iterative', 0.03);
    const w = await underLoad(srv.pid, srv.port, 4, 2000);
    expect(detectModel(w).model, why(w)).toBe('iterative');
    expect(w.processes).toHaveLength(1);
    expect(w.contexts).toHaveLength(1);
    const [main] = w.contexts;
    expect(main).toMatchObject({ pid: srv.pid, tid: srv.pid, name: 'python3', born: false, ended: false });
    // Every line sleeps 30 ms in the handler: a voluntary switch each, and some CPU for the rest.
    expect(main.voluntary).toBeGreaterThanOrEqual(10);
    expect(main.oncpu_ms).toBeGreaterThan(0);
    expect(main.runqueue_wait_ms).not.toBeNull();
    expect(w.processes[0].inbound_max).toBe(1);
    // socketserver listens with request_queue_size = 5.
    expect(w.listeners).toEqual([expect.objectContaining({ listen: `127.0.0.1:${srv.port}`, pids: [srv.pid], max: 5 })]);
    expect(w.listeners[0].peak).toBeGreaterThanOrEqual(1);
  });

  it('reads the accept queue exactly: 5 connections waiting behind the one being served', async () => {
    const srv = await startPython('iterative', 60);
    const [first] = await openConnections(srv.port, 1);
    first.write('x\n'); // the handler takes it and sleeps for a minute
    await waitUntil(() => srv.lines.includes('handling'), 10_000);
    const waiting = await openConnections(srv.port, 5);
    const w = await sampleTree({ pid: srv.pid, durationMs: 300, intervalMs: 100 });
    for (const s of [first, ...waiting]) s.destroy();
    expect(w.listeners).toEqual([{ listen: `127.0.0.1:${srv.port}`, inode: expect.any(Number), pids: [srv.pid], length: 5, peak: 5, max: 5 }]);
    expect(w.processes[0].inbound_max).toBe(1);
    expect(detectModel(w).model, why(w)).toBe('iterative');
  });

  it('names socketserver.ThreadingTCPServer thread-per-connection, from the threads it makes and ends', async () => {
    const srv = await startPython('threading', 0.1);
    const w = await underLoad(srv.pid, srv.port, 4, 2000, 50);
    const found = detectModel(w);
    expect(found.model, why(w)).toBe('thread-per-connection');
    expect(found.evidence[0]).toMatch(/^threads created during the window: \d+, ended: \d+/);
    const made = w.contexts.filter((c) => c.born && c.ended);
    expect(made.length).toBeGreaterThanOrEqual(3);
    expect(made.every((c) => c.pid === srv.pid && c.tid !== srv.pid)).toBe(true);
    // The main thread stays and accepts; several connections are served at once, on threads of their own.
    expect(w.contexts.find((c) => c.tid === srv.pid)).toMatchObject({ born: false, ended: false });
    expect(w.processes[0].inbound_max).toBeGreaterThanOrEqual(2);
    expect(w.processes[0].threads_max).toBeGreaterThanOrEqual(3);
  });

  it('names socketserver.ForkingTCPServer fork-per-connection, each child holding its one connection', async () => {
    const srv = await startPython('forking', 0.1);
    const w = await underLoad(srv.pid, srv.port, 4, 2000, 50);
    expect(detectModel(w).model, why(w)).toBe('fork-per-connection');
    const children = w.processes.filter((p) => p.ppid === srv.pid);
    expect(children.filter((p) => p.born && p.ended).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...children.map((p) => p.inbound_max))).toBe(1);
  });

  it('says unknown for an idle server, and what would tell', async () => {
    const srv = await startPython('iterative', 0);
    const w = await sampleTree({ pid: srv.pid, durationMs: 500, intervalMs: 100 });
    const found = detectModel(w);
    expect(found.model).toBe('unknown');
    expect(found.evidence).toContainEqual(expect.stringMatching(/drive concurrent connections while attaching/));
  });
});
