/**
 * The backend and server entries as the runner uses them: compiled, forked with an IPC channel. Assumes dist/ is
 * built (`npm test` builds first; by hand: `npx tsc -p .`).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectBackend } from '../../src/servers/backend/backend-client.js';

const DIST = join(import.meta.dirname, '../../dist/src/servers');
const BACKEND_MAIN = join(DIST, 'backend/backend-main.js');
const SERVE_MAIN = join(DIST, 'serve-main.js');

interface Message {
  type: string;
  [key: string]: unknown;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function forkEntry(path: string, env: Record<string, string>): { child: ChildProcess; messages: Message[] } {
  const child = fork(path, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  children.push(child);
  const messages: Message[] = [];
  child.on('message', (m: Message) => messages.push(m));
  return { child, messages };
}

async function firstMessage(child: ChildProcess, messages: Message[], type: string): Promise<Message> {
  for (;;) {
    const found = messages.find((m) => m.type === type);
    if (found) return found;
    if (child.exitCode !== null) throw new Error(`child exited (${child.exitCode}) before '${type}'`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Gone, or a zombie nobody has reaped yet (it has exited all the same). */
function processGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

const backendConfig = (extra: object = {}) => ({
  SRVLENS_BACKEND_CONFIG: JSON.stringify({ latency: { dist: 'fixed', ms: 1 }, limit: 4, intervalMs: 100, ...extra }),
});

describe('backend-main forked with IPC', () => {
  beforeAll(() => {
    if (!existsSync(BACKEND_MAIN)) throw new Error(`${BACKEND_MAIN} is missing: run \`npx tsc -p .\` first`);
  });

  it('reports ready, serves, sends intervals, and exits when the parent disconnects', async () => {
    const { child, messages } = forkEntry(BACKEND_MAIN, backendConfig());
    const ready = await firstMessage(child, messages, 'ready');
    expect(ready).toEqual({ type: 'ready', port: expect.any(Number), pid: child.pid });

    const client = await connectBackend({ host: '127.0.0.1', port: ready.port as number });
    await Promise.all([client.call(10), client.call(10), client.call(10)]);
    await client.close();
    while (messages.filter((m) => m.type === 'interval').length < 3) await new Promise((r) => setTimeout(r, 20));
    const intervals = messages.filter((m) => m.type === 'interval');
    intervals.forEach((m, i) => i > 0 && expect(m.index).toBe((intervals[i - 1].index as number) + 1));
    expect(intervals[0].data).toMatchObject({ limit: 4, queue_max: expect.any(Number), calls: expect.any(Number) });

    const exited = once(child, 'exit');
    child.disconnect();
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('exits when its parent is killed with SIGKILL', async () => {
    // A parent of its own, so that we can kill -9 it: it forks the backend and prints the backend's pid.
    // (execArgv: [] because fork would otherwise pass on this parent's `-e` script.)
    const parentScript = `
      import { fork } from 'node:child_process';
      const child = fork(${JSON.stringify(BACKEND_MAIN)}, [], { stdio: 'ignore', execArgv: [] });
      child.on('message', (m) => { if (m.type === 'ready') console.log(m.pid); });
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', parentScript], {
      env: { ...process.env, ...backendConfig() },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(parent);
    const line = await new Promise<string>((resolve, reject) => {
      parent.stdout!.once('data', (b: Buffer) => resolve(b.toString()));
      parent.once('exit', (code) => reject(new Error(`parent exited (${code}) before its backend was ready`)));
    });
    const backendPid = Number(line.trim());
    expect(processGone(backendPid)).toBe(false);

    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (!processGone(backendPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(processGone(backendPid)).toBe(true);
  });

  it('reports a bad config and exits non-zero', async () => {
    const { child, messages } = forkEntry(BACKEND_MAIN, backendConfig({ latency: { dist: 'fixed', ms: -1 } }));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(messages).toEqual([{ type: 'error', message: expect.stringMatching(/latency: fixed latency must be/) }]);
  });
});

describe('serve-main forked with IPC', () => {
  it('starts the event-loop model under its process title and exits when the parent disconnects', async () => {
    const backend = forkEntry(BACKEND_MAIN, backendConfig());
    const backendReady = await firstMessage(backend.child, backend.messages, 'ready');
    const config = {
      model: 'event-loop',
      host: '127.0.0.1',
      port: 0,
      size: {},
      workload: { parse_us: 10, process_us: 10, transform_us: 10, backend_calls: 1, response_bytes: 500 },
      backend: { host: '127.0.0.1', port: backendReady.port },
    };
    const { child, messages } = forkEntry(SERVE_MAIN, { SRVLENS_SERVE_CONFIG: JSON.stringify(config) });
    const ready = await firstMessage(child, messages, 'ready');
    expect(ready).toEqual({ type: 'ready', port: expect.any(Number), pid: child.pid });
    expect(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')).toMatch(/^srvlens-server:event-loop/);

    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: ready.port as number, path: '/' }, (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('x'.repeat(500));

    for (const c of [child, backend.child]) {
      const exited = once(c, 'exit');
      c.disconnect();
      expect((await exited)[0]).toBe(0);
    }
  });

  it('names the known models when asked for an unknown one', async () => {
    const config = { model: 'nope', backend: { host: '127.0.0.1', port: 1 } };
    const { child, messages } = forkEntry(SERVE_MAIN, { SRVLENS_SERVE_CONFIG: JSON.stringify(config) });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(messages[0]?.message).toMatch(/unknown server model 'nope'; known models: event-loop/);
  });
});
