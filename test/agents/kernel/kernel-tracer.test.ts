/**
 * The kernel tracer on servers nobody here instrumented, driven by a plain HTTP client (node:http, no srvlens
 * header), each figure held against something measured apart from it:
 *   - request and connection counts against what the client did;
 *   - server time against the server's own log of each request (read -> answer written);
 *   - the on-CPU / run-queue / blocked split, three kernel counters read independently, against the server time;
 *     its blocked part against the sleep each request is given;
 *   - the parts before the handler against the client's own latency, which holds them all.
 * They run on the default backend (the libbpf tracer where native/bpf/build.sh has built it, else bpftrace); the last
 * ones hold the two backends to each other and to the fallback between them.
 * Needs root, bpftrace and BTF (scripts/test-deps.sh installs bpftrace and builds the libbpf tracer); without them
 * the test says why it cannot run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelTracerAvailability, KernelTracerUnavailable, LOADER, startKernelTracer, type KernelTracer, type TracerBackend } from '../../../agents/kernel/kernel-tracer.js';
import { expQuantile, mergeExpHistograms, type Frame } from '../../../src/vocabulary/index.js';
import { waitUntil } from '../../helpers/processes.js';
import { startApachePrefork, startNginx, startReference, startTimedHttp, stopAll } from '../proc/real-servers.js';

afterEach(stopAll);

/**
 * `conns` clients, each sending `each` GETs one after another; `keepAlive` false opens a connection a request (no
 * agent: node's Agent hands a freed socket to a request queued for it, keep-alive or not, when the server keeps it open).
 */
async function drive(port: number, conns: number, each: number, keepAlive: boolean): Promise<{ done: number; meanMs: number }> {
  const agent = keepAlive ? new http.Agent({ keepAlive, maxSockets: conns }) : false;
  let done = 0;
  let sumMs = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            sumMs += performance.now() - t0;
            done++;
            resolve();
          });
        })
        .on('error', reject);
    });
  await Promise.all(Array.from({ length: conns }, async () => { for (let i = 0; i < each; i++) await one(); }));
  if (agent) agent.destroy();
  return { done, meanMs: sumMs / done };
}

const serverLog = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map(Number);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const within = (v: number | null, truth: number, rel: number) => v !== null && Math.abs(v - truth) <= rel * truth;

const INTERVAL_MS = 500;

/**
 * The tracer with its frames kept, from the first whole interval on: `settle` waits for the first frame (load
 * before it falls in no frame) and, after the load, for the frame of the interval it ended in.
 */
async function framedTracer(pid: number): Promise<{ tracer: KernelTracer; frames: Frame[]; settle: () => Promise<void> }> {
  const tracer = await startKernelTracer({ pid, intervalMs: INTERVAL_MS, requests: true });
  const frames: Frame[] = [];
  tracer.pipe((f) => frames.push(f));
  const settle = async () => {
    const seen = tracer.lastIndex;
    expect(await waitUntil(() => tracer.lastIndex > seen, 5 * INTERVAL_MS)).toBe(true);
  };
  expect(await waitUntil(() => tracer.lastIndex >= 0, 5 * INTERVAL_MS)).toBe(true);
  return { tracer, frames, settle };
}

/** timed-http.py of `kind` traced while `conns` clients send `each` requests: the tracer's figures and frames, the server's own log, the client's. */
async function traceTimedHttp(kind: 'threading' | 'iterative', cpuMs: number, sleepMs: number, conns: number, each: number, keepAlive: boolean) {
  const log = join(mkdtempSync(join(tmpdir(), 'srvlens-kernel-')), 'server.log');
  const server = await startTimedHttp(log, kind, cpuMs, sleepMs);
  const { tracer, frames, settle } = await framedTracer(server.pid);
  const client = await drive(server.port, conns, each, keepAlive);
  await settle();
  const r = await tracer.stop();
  return { r, frames, own: serverLog(log), client, say: JSON.stringify(r) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('the kernel tracer', () => {
  it("on Python's ThreadingHTTPServer: exact counts, the server's own time, and a split that adds up", async () => {
    // 0.5 ms of CPU and 5 ms asleep a request: the blocked part is known. Little CPU, so that the threads seldom wait
    // for Python's GIL between the kernel's read and the server's clock (the server cannot see that wait; the kernel does).
    const { r, frames, own, client, say } = await traceTimedHttp('threading', 0.5, 5, 4, 50, true);
    console.log(`threading: kernel server ${r.server_ms?.toFixed(3)} ms, own ${mean(own).toFixed(3)} ms; split ${r.oncpu_ms?.toFixed(3)} + ${r.runqueue_ms?.toFixed(3)} + ${r.blocked_ms?.toFixed(3)} of ${r.split_server_ms?.toFixed(3)} ms; server_queue ${r.server_queue_ms?.toFixed(3)} ms; client ${client.meanMs.toFixed(3)} ms`);
    expect(client.done).toBe(200);
    expect(own).toHaveLength(200);
    expect(r.accepts, say).toBe(4);
    expect(r.accept_queue_n, say).toBe(4);
    expect(r.requests, say).toBe(200);
    expect(r.responses, say).toBe(200);
    expect(r.not_http).toBe(0);
    expect(within(r.server_ms, mean(own), 0.05), `server ${r.server_ms} ms, the server's own ${mean(own)} ms`).toBe(true);
    expect(r.split_n, say).toBe(200);
    const split = r.oncpu_ms! + r.runqueue_ms! + r.blocked_ms!;
    expect(within(split, r.split_server_ms!, 0.05), `split ${split} of ${r.split_server_ms} ms`).toBe(true);
    expect(r.blocked_ms!, say).toBeGreaterThanOrEqual(5 * 0.95);
    expect(r.oncpu_ms!, say).toBeGreaterThanOrEqual(0.5 * 0.9);
    // Everything the kernel timed on the server's side happened within the client's wait.
    expect(r.server_queue_ms! + r.server_ms! + r.send_ms!, say).toBeLessThan(client.meanMs);
    // The frames on the interval grid hold every request once, in the agents' shape: the server time's distribution
    // (an exponential histogram, 9 % buckets) has the server's own median within a bucket.
    const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
    expect(servers.reduce((n, s) => n + s.requests, 0)).toBe(200);
    expect(frames.every((f, i) => i === 0 || f.index === frames[i - 1].index + 1)).toBe(true);
    const h = mergeExpHistograms(servers.map((s) => s.duration));
    expect(h.count).toBe(200);
    const p50 = expQuantile(h, 0.5)! * 1000;
    expect(Math.abs(p50 - median(own)), `p50 ${p50} ms, the server's own median ${median(own)} ms`).toBeLessThanOrEqual(0.1 * median(own));
    expect(servers.every((s) => s.source === 'kernel')).toBe(true);
  }, 60_000);

  it('attaches the sched programs while a thread serves one request at a time: after an idle while, a split that still adds up', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'srvlens-kernel-')), 'server.log');
    const server = await startTimedHttp(log, 'threading', 0.5, 5);
    const tracer = await startKernelTracer({ pid: server.pid, intervalMs: INTERVAL_MS });
    await drive(server.port, 2, 10, true);
    // Idle past the loader's 2 s: the sched programs are detached; the next requests attach them again, and those
    // begun before they were are not split (counted, not timed by the schedule).
    await new Promise((r) => setTimeout(r, 3000));
    await drive(server.port, 2, 100, true);
    const r = await tracer.stop();
    const say = JSON.stringify(r);
    console.log(`sched re-attached: split ${r.split_n} of ${r.requests}`);
    expect(r.requests, say).toBe(220);
    // The loader looks every 200 ms at most: ~35 of each connection's ~6 ms requests at worst before it attaches.
    expect(r.split_n, say).toBeGreaterThanOrEqual(20 + 200 - 2 * 40);
    expect(r.split_n, say).toBeLessThan(220);
    const split = r.oncpu_ms! + r.runqueue_ms! + r.blocked_ms!;
    expect(within(split, r.split_server_ms!, 0.05), `split ${split} of ${r.split_server_ms} ms`).toBe(true);
    expect(r.blocked_ms!, say).toBeGreaterThanOrEqual(5 * 0.95);
    expect(r.blocked_ms!, say).toBeLessThan(r.split_server_ms!);
  }, 60_000);

  it('on an iterative HTTPServer with more clients than it serves: the accept queue it builds, counted exactly', async () => {
    // A connection a request, 6 at a time: each waits in the accept queue while the server serves the others.
    const { r, own, client, say } = await traceTimedHttp('iterative', 2, 3, 6, 10, false);
    console.log(`iterative: kernel server ${r.server_ms?.toFixed(3)} ms, own ${mean(own).toFixed(3)} ms; accept_queue ${r.accept_queue_ms?.toFixed(3)} ms, server_queue ${r.server_queue_ms?.toFixed(3)} ms; client ${client.meanMs.toFixed(3)} ms`);
    expect(client.done).toBe(60);
    expect(r.accepts, say).toBe(60);
    expect(r.accept_queue_n, say).toBe(60);
    expect(r.requests, say).toBe(60);
    expect(r.responses, say).toBe(60);
    expect(within(r.server_ms, mean(own), 0.05), `server ${r.server_ms} ms, the server's own ${mean(own)} ms`).toBe(true);
    // Five others ahead of it at ~5 ms each, less what overlaps: well above a handshake's microseconds.
    expect(r.accept_queue_ms!, say).toBeGreaterThan(5);
    const parts = r.accept_queue_ms! + r.server_queue_ms! + r.server_ms! + r.send_ms!;
    expect(parts, `${say}; the client waited ${client.meanMs} ms`).toBeLessThan(client.meanMs);
    expect(parts, `${say}; the client waited ${client.meanMs} ms`).toBeGreaterThan(0.7 * client.meanMs);
  }, 60_000);

  it('adopts the connections a server accepted before the trace began, at their first answer', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'srvlens-kernel-')), 'server.log');
    const server = await startTimedHttp(log, 'threading', 0.2, 1);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    const get = () => new Promise<void>((resolve, reject) => http.get({ host: '127.0.0.1', port: server.port, path: '/', agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
    const each = async (n: number) => Promise.all(Array.from({ length: 3 }, async () => { for (let i = 0; i < n; i++) await get(); }));
    // Three keep-alive connections, open and used before the tracer starts, then used again under it.
    await each(1);
    const tracer = await startKernelTracer({ pid: server.pid, intervalMs: 500 });
    await each(10);
    agent.destroy();
    const r = await tracer.stop();
    const say = JSON.stringify(r);
    expect(r.accepts, say).toBe(0);
    expect(r.adopted, say).toBe(3);
    expect(r.responses, say).toBe(30);
    // The request each connection was serving when it was adopted is counted, not timed.
    expect(r.requests, say).toBe(27);
  }, 60_000);

  it("on nginx (2 epoll workers) proxying to a server that sleeps: exact counts, and nginx's own $request_time", async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'srvlens-kernel-')), 'upstream.log');
    const upstream = await startTimedHttp(log, 'threading', 0.2, 20);
    const nginx = await startNginx(2, { upstream: upstream.port });
    const tracer = await startKernelTracer({ pid: nginx.pid, intervalMs: 500 });
    const client = await drive(nginx.port, 4, 25, true);
    const r = await tracer.stop();
    // $request_time is in seconds to the ms: over 100 requests its rounding averages out well below 5 %.
    const own = readFileSync(join(nginx.dir, 'access.log'), 'utf8').trim().split('\n').map((l) => Number(l) * 1000);
    const say = JSON.stringify(r);
    console.log(`nginx: kernel server ${r.server_ms?.toFixed(3)} ms, $request_time ${mean(own).toFixed(3)} ms; server_queue ${r.server_queue_ms?.toFixed(3)} ms; client ${client.meanMs.toFixed(3)} ms`);
    expect(client.done).toBe(100);
    expect(own).toHaveLength(100);
    expect(r.accepts, say).toBe(4);
    expect(r.requests, say).toBe(100);
    expect(r.responses, say).toBe(100);
    expect(within(r.server_ms, mean(own), 0.05), `server ${r.server_ms} ms, nginx's own ${mean(own)} ms`).toBe(true);
    expect(r.server_queue_ms! + r.server_ms! + r.send_ms!, say).toBeLessThan(client.meanMs);
  }, 60_000);

  it("on Apache's prefork MPM with more clients than workers: exact counts, its children followed", async () => {
    const apache = await startApachePrefork(2);
    const tracer = await startKernelTracer({ pid: apache.pid, intervalMs: 500 });
    // A connection a request (keep-alive is off), 6 clients for 2 workers: connections wait to be accepted.
    const agent = new http.Agent({ keepAlive: false, maxSockets: 6 });
    let done = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = 0; i < 20; i++) {
          await new Promise<void>((resolve, reject) => http.get({ host: '127.0.0.1', port: apache.port, path: '/ok', agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
          done++;
        }
      }),
    );
    const r = await tracer.stop();
    const say = JSON.stringify(r);
    console.log(`prefork: accept_queue ${r.accept_queue_ms?.toFixed(3)} ms, server ${r.server_ms?.toFixed(3)} ms`);
    expect(done).toBe(120);
    expect(r.accepts, say).toBe(120);
    expect(r.accept_queue_n, say).toBe(120);
    expect(r.requests, say).toBe(120);
    expect(r.responses, say).toBe(120);
    expect(r.accept_queue_ms!, say).toBeGreaterThan(0);
  }, 60_000);

  it('on the reference thread pool with more clients than threads: exact counts, the accept queue it builds, a split that adds up', async () => {
    const server = await startReference(['--model', 'thread-pool', '--size', 'threads=2'], null);
    const tracer = await startKernelTracer({ pid: server.pid, intervalMs: 500 });
    // A connection a request: a pool thread serves a keep-alive connection to its end, so 6 kept-alive clients would
    // hold both threads and starve the rest. 6 clients for 2 threads: 4 wait in the accept queue at any time.
    const client = await drive(server.port, 6, 15, false);
    const r = await tracer.stop();
    const say = JSON.stringify(r);
    console.log(`thread-pool: accept_queue ${r.accept_queue_ms?.toFixed(3)} ms, server ${r.server_ms?.toFixed(3)} ms, split ${r.oncpu_ms?.toFixed(3)} + ${r.runqueue_ms?.toFixed(3)} + ${r.blocked_ms?.toFixed(3)} of ${r.split_server_ms?.toFixed(3)} ms; client ${client.meanMs.toFixed(3)} ms`);
    expect(client.done).toBe(90);
    expect(r.requests, say).toBe(90);
    expect(r.responses, say).toBe(90);
    expect(r.accepts, say).toBe(90);
    expect(r.accept_queue_n, say).toBe(90);
    // Each waits for about two others' service (~6 ms each) before a thread takes it.
    expect(r.accept_queue_ms!, say).toBeGreaterThan(2);
    expect(r.split_n, say).toBe(90);
    const split = r.oncpu_ms! + r.runqueue_ms! + r.blocked_ms!;
    expect(within(split, r.split_server_ms!, 0.05), `split ${split} of ${r.split_server_ms} ms`).toBe(true);
    expect(r.accept_queue_ms! + r.server_queue_ms! + r.server_ms! + r.send_ms!, say).toBeLessThan(client.meanMs);
  }, 60_000);

  it('on the reference event loop: exact counts, no split of a thread that interleaves requests', async () => {
    const server = await startReference(['--model', 'event-loop'], null);
    const tracer = await startKernelTracer({ pid: server.pid, intervalMs: 500 });
    const client = await drive(server.port, 8, 25, true);
    const r = await tracer.stop();
    const say = JSON.stringify(r);
    console.log(`event-loop: server_queue ${r.server_queue_ms?.toFixed(3)} ms, server ${r.server_ms?.toFixed(3)} ms, split ${r.split_n} of ${r.requests}; client ${client.meanMs.toFixed(3)} ms`);
    expect(client.done).toBe(200);
    expect(r.accepts, say).toBe(8);
    expect(r.requests, say).toBe(200);
    expect(r.responses, say).toBe(200);
    // 8 connections on one loop, each waiting ~5 ms on the backend: requests overlap on the thread, which is then
    // no longer split (its time is the loop's, not one request's).
    expect(r.split_n, say).toBeLessThan(r.requests);
    // Bytes that arrive while the loop serves others wait for it.
    expect(r.server_queue_ms!, say).toBeGreaterThan(0);
    expect(r.server_queue_ms! + r.server_ms! + r.send_ms!, say).toBeLessThan(client.meanMs);
  }, 60_000);

  it("gives the same counts on either backend, each within 5 % of nginx's own $request_time", async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'srvlens-kernel-')), 'upstream.log');
    const upstream = await startTimedHttp(log, 'threading', 0.2, 10);
    const nginx = await startNginx(2, { upstream: upstream.port });
    const accessLog = join(nginx.dir, 'access.log');
    const backends: TracerBackend[] = ['libbpf', 'bpftrace'];
    for (const [i, backend] of backends.entries()) {
      const tracer = await startKernelTracer({ pid: nginx.pid, intervalMs: 500, backend });
      expect(tracer.backend).toBe(backend);
      const client = await drive(nginx.port, 4, 25, true);
      const r = await tracer.stop();
      const own = readFileSync(accessLog, 'utf8').trim().split('\n').slice(i * 100).map((l) => Number(l) * 1000);
      const say = `${backend}: ${JSON.stringify(r)}`;
      console.log(`${backend}: kernel server ${r.server_ms?.toFixed(3)} ms, $request_time ${mean(own).toFixed(3)} ms; send ${r.send_ms?.toFixed(3)} ms`);
      expect(client.done).toBe(100);
      expect(own).toHaveLength(100);
      expect([r.accepts, r.requests, r.responses, r.not_http, r.calls], say).toEqual([4, 100, 100, 0, 100]);
      expect(within(r.server_ms, mean(own), 0.05), say).toBe(true);
      // nginx's calls to the upstream, split into the upstream's time (~10 ms asleep) and nginx's wait to read the reply.
      expect(r.upstream_ms!, say).toBeGreaterThan(10);
      expect(r.upstream_ms! + r.reply_wait_ms!, say).toBeLessThan(r.server_ms!);
    }
  }, 60_000);

  it('counts one response a write, however many segments it fills, and each answer to pipelined requests, on either backend', async () => {
    // 1 MB answers, written at once and sent in many segments (tcp_sendmsg_locked runs once a segment), their bodies
    // made of status lines: a later segment taken for a send of its own would count responses that were not.
    const BODY = 1_000_000;
    const head = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY}\r\nContent-Type: text/plain\r\n\r\n`;
    const server = await startTimedHttp(join(mkdtempSync(join(tmpdir(), 'srvlens-kernel-')), 'server.log'), 'threading', 0, 0, BODY);
    for (const backend of ['libbpf', 'bpftrace'] as TracerBackend[]) {
      const tracer = await startKernelTracer({ pid: server.pid, intervalMs: 500, backend });
      const client = await drive(server.port, 2, 5, true);
      // Three requests in one write: the server reads them at once and answers each in a write of its own.
      const pipelined = await new Promise<number>((resolve, reject) => {
        let got = 0;
        const sock = net.connect(server.port, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3)));
        sock.on('data', (b) => {
          got += b.length;
          if (got >= 3 * (head.length + BODY)) sock.end();
        });
        sock.on('close', () => resolve(got)).on('error', reject);
      });
      const r = await tracer.stop();
      const say = `${backend}: ${JSON.stringify(r)}`;
      console.log(`${backend}, 1 MB answers: ${r.responses} responses, server ${r.server_ms?.toFixed(3)} ms, send ${r.send_ms?.toFixed(3)} ms`);
      expect(client.done).toBe(10);
      expect(pipelined).toBe(3 * (head.length + BODY));
      expect([r.accepts, r.responses, r.not_http], say).toEqual([3, 13, 0]);
    }
  }, 60_000);

  it('runs bpftrace where the libbpf tracer is not built or does not load, and says why', async () => {
    const missing = '/nonexistent/srvlens-ktrace';
    const fallback = kernelTracerAvailability(undefined, missing);
    expect(fallback.backend).toBe('bpftrace');
    expect(fallback.fallback).toMatch(/libbpf tracer is not built \(sh \/\S+\/native\/bpf\/build\.sh; needs clang, bpftool and libbpf-dev\)/);
    expect(() => kernelTracerAvailability('libbpf', missing)).toThrow(KernelTracerUnavailable);
    expect(kernelTracerAvailability(undefined, LOADER).backend).toBe('libbpf');
    // A loader that fails as one rejected by another kernel's verifier would.
    const failing = join(mkdtempSync(join(tmpdir(), 'srvlens-kernel-')), 'srvlens-ktrace');
    writeFileSync(failing, '#!/bin/sh\necho "srvlens-ktrace: loading the BPF programs failed: Invalid argument" >&2\nexit 1\n');
    chmodSync(failing, 0o755);
    const server = await startReference(['--model', 'event-loop'], null);
    const tracer = await startKernelTracer({ pid: server.pid, intervalMs: 500, loader: failing });
    const client = await drive(server.port, 2, 5, true);
    const r = await tracer.stop();
    expect(tracer.backend).toBe('bpftrace');
    expect(tracer.fallback).toMatch(/the libbpf tracer exited \(1\) before attaching: .*loading the BPF programs failed: Invalid argument/);
    expect(client.done).toBe(10);
    expect(r.requests, JSON.stringify(r)).toBe(10);
    await expect(startKernelTracer({ pid: server.pid, intervalMs: 500, loader: failing, backend: 'libbpf' })).rejects.toThrow(/loading the BPF programs failed/);
  }, 60_000);
});
