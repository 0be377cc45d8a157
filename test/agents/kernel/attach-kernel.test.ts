/**
 * `srvlens attach` with the kernel tracer, as a user runs it: as root the summary holds the requests the kernel saw
 * (a Python server, and a Node app loaded with autocannon: the parts before its handler and its calls split, each
 * held against the app's and its backend's own logs); as another user it says once why there are none and gives the
 * /proc figures as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AttachJson } from '../../../agents/proc/attach-report.js';
import { waitUntil } from '../../helpers/processes.js';
import { startCallingApp, startTimedHttp, stopAll } from '../proc/real-servers.js';

const CLI = join(import.meta.dirname, '../../../dist/src/cli.js');
const AUTOCANNON = join(import.meta.dirname, '../../../node_modules/.bin/autocannon');
/** The test suites turn the tracer off for everything else (vitest.config.ts). */
const ENV = { ...process.env, SRVLENS_KERNEL: 'on' };
/** nobody: a user with no capability to load BPF programs. */
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

afterEach(stopAll);

async function get(port: number, agent: http.Agent): Promise<void> {
  await new Promise<void>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
}

/** `srvlens attach ARGS` started, resolved once its kernel tracer has attached; `exited` once it is done. */
async function attachWithKernel(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'attach', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(await waitUntil(() => out.stderr.includes('kernel tracer attached'), 20_000), out.stderr).toBe(true);
  return { out, exited };
}

const readLog = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map(Number);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('srvlens attach and the kernel tracer', () => {
  it('as root: the requests of the window, counted exactly, beside the /proc figures', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'srvlens-attach-kernel-')), 'server.log');
    const server = await startTimedHttp(log, 'threading', 0.5, 2);
    const { out, exited } = await attachWithKernel(['--pid', String(server.pid), '--duration', '4', '--json']);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    await Promise.all(Array.from({ length: 3 }, async () => { for (let i = 0; i < 20; i++) await get(server.port, agent); }));
    agent.destroy();
    expect(await exited, out.stderr).toBe(0);
    const doc = JSON.parse(out.stdout) as AttachJson;
    expect(doc.requests_unmeasured).toBeNull();
    expect(doc.requests?.requests, JSON.stringify(doc.requests)).toBe(60);
    expect(doc.requests?.responses).toBe(60);
    expect(doc.requests?.accepts).toBe(3);
    expect(doc.requests?.split_n).toBe(60);
    expect(doc.samples).toBeGreaterThan(0);
  }, 60_000);

  it('on a Node app loaded with autocannon: the parts before its handler, and its calls split into upstream and the wait for its loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srvlens-attach-kernel-'));
    // The backend sleeps 10 ms a request and logs its own time; the app burns 1 ms of its loop a request, then calls
    // it and logs each call's time as its JavaScript sees it.
    const backend = await startTimedHttp(join(dir, 'backend.log'), 'threading', 0, 10);
    const app = await startCallingApp(join(dir, 'app.log'), backend.port, 1);
    const json = join(dir, 'attach.json');
    const { out, exited } = await attachWithKernel(['--pid', String(app.pid), '--duration', '8', '--out', json]);
    // 20 connections, 1000 requests: the loop (1 ms a request) is the bottleneck, so requests and replies wait for it.
    const cannon = await promisify(execFile)(AUTOCANNON, ['-c', '20', '-a', '1000', '-j', `http://127.0.0.1:${app.port}/`], { timeout: 30_000, maxBuffer: 1 << 24 });
    const sent = JSON.parse(cannon.stdout) as { requests: { total: number }; non2xx: number; errors: number };
    expect(await exited, out.stderr).toBe(0);
    writeFileSync(join(dir, 'attach.txt'), out.stdout);
    const r = (JSON.parse(readFileSync(json, 'utf8')) as AttachJson).requests!;
    const say = JSON.stringify(r);
    const calls = readLog(join(dir, 'app.log'));
    const upstream = readLog(join(dir, 'backend.log'));
    console.log(
      `node app: accept_queue ${r.accept_queue_ms?.toFixed(3)} ms, server_queue ${r.server_queue_ms?.toFixed(3)} ms, server ${r.server_ms?.toFixed(3)} ms; ` +
        `calls ${r.calls}: upstream ${r.upstream_ms?.toFixed(3)} ms (backend's own ${mean(upstream).toFixed(3)}), reply wait ${r.reply_wait_ms?.toFixed(3)} ms; the app's own call time ${mean(calls).toFixed(3)} ms`,
    );
    expect(sent.requests.total).toBe(1000);
    expect(sent.non2xx + sent.errors).toBe(0);
    expect(r.requests, say).toBe(1000);
    expect(r.responses, say).toBe(1000);
    expect(r.accepts, say).toBe(20);
    expect(r.accept_queue_n, say).toBe(20);
    // Before the handler: the accept queue is timed, and requests wait for the busy loop to read them.
    expect(r.accept_queue_ms, say).not.toBeNull();
    expect(r.server_queue_ms!, say).toBeGreaterThan(1);
    // The calls: one a request; upstream holds the backend's own time; upstream and the reply's wait for the loop
    // together are the call as the app's JavaScript timed it, less the little before its first write and after its read.
    expect(r.calls, say).toBe(1000);
    expect(r.upstream_ms!, say).toBeGreaterThanOrEqual(mean(upstream));
    expect(r.reply_wait_ms!, say).toBeGreaterThan(0);
    const downstream = r.upstream_ms! + r.reply_wait_ms!;
    expect(downstream, `${say}; the app's own ${mean(calls)} ms`).toBeLessThanOrEqual(mean(calls));
    expect(downstream, `${say}; the app's own ${mean(calls)} ms`).toBeGreaterThanOrEqual(0.9 * mean(calls));
    expect(out.stdout).toMatch(/downstream +[\d.]+ ms +1000/);
    expect(out.stdout).toMatch(/reply wait +[\d.]+ ms +1000/);
  }, 60_000);

  it('on a Node app whose keep-alive connections to its backend were open before the trace: picks them up and splits their calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srvlens-attach-kernel-'));
    const backend = await startTimedHttp(join(dir, 'backend.log'), 'threading', 0, 5);
    const app = await startCallingApp(join(dir, 'app.log'), backend.port, 0);
    // 10 requests at once before the trace: the app's http.Agent opens connections to the backend and keeps them.
    const warm = new http.Agent({ keepAlive: true, maxSockets: 10 });
    await Promise.all(Array.from({ length: 10 }, () => get(app.port, warm)));
    warm.destroy();
    // The app's connections to the backend now, from the kernel's table (remote port, state 01: established).
    const open = readFileSync(`/proc/${app.pid}/net/tcp`, 'utf8').split('\n').slice(1).filter((l) => {
      const f = l.trim().split(/\s+/);
      return f.length > 3 && parseInt(f[2].split(':')[1], 16) === backend.port && f[3] === '01';
    }).length;
    expect(open).toBeGreaterThan(0);
    const json = join(dir, 'attach.json');
    const { out, exited } = await attachWithKernel(['--pid', String(app.pid), '--duration', '5', '--out', json]);
    // At most 10 calls at once: most go out on connections opened before the trace began, the rest on new ones.
    await promisify(execFile)(AUTOCANNON, ['-c', '10', '-a', '400', '-j', `http://127.0.0.1:${app.port}/`], { timeout: 30_000, maxBuffer: 1 << 24 });
    expect(await exited, out.stderr).toBe(0);
    const r = (JSON.parse(readFileSync(json, 'utf8')) as AttachJson).requests!;
    const say = JSON.stringify(r);
    const upstream = readLog(join(dir, 'backend.log')).slice(10);
    expect(r.requests, say).toBe(400);
    expect(r.adopted_calls, say).toBe(open);
    // The first call on each adopted connection starts at that write, so it is timed as every later one.
    expect(r.calls, say).toBe(400);
    expect(r.upstream_ms!, say).toBeGreaterThanOrEqual(mean(upstream));
    expect(out.stdout).toMatch(new RegExp(`${open} outgoing connections opened before the trace began were picked up`));
  }, 60_000);

  it('as another user: says once that the tracer needs root, and carries on with /proc', async () => {
    const server = await startTimedHttp(join(mkdtempSync(join(tmpdir(), 'srvlens-attach-kernel-')), 'server.log'), 'threading', 0, 0);
    const r = await promisify(execFile)('setpriv', [...NOBODY, process.execPath, CLI, 'attach', '--pid', String(server.pid), '--duration', '0.5', '--json'], { timeout: 30_000, env: ENV });
    const doc = JSON.parse(r.stdout) as AttachJson;
    expect(doc.requests).toBeNull();
    expect(doc.requests_unmeasured).toMatch(/^kernel tracer: needs root/);
    expect(r.stderr.match(/kernel tracer: needs root/g), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('carrying on with /proc alone');
    expect(doc.samples).toBeGreaterThan(0);
  }, 60_000);
});
