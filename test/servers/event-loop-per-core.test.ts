/**
 * event-loop-per-core as the runner starts it: serve-main forked from dist/ (`npx tsc -p .` first; `npm test` does
 * it), its cluster workers being real processes. Spread is judged by which worker PID answered each connection.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBackend, startBackend } from '../../src/servers/backend/backend.js';
import { newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';

const SERVE_MAIN = join(import.meta.dirname, '../../dist/src/servers/serve-main.js');
const workload = { parse_us: 20, process_us: 200, transform_us: 20, backend_calls: 1, response_bytes: 500 };

/** One request on a new connection that closes after it: a short-lived client. Resolves with the serving PID. */
function servedBy(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(res.headers['x-srvlens-pid'])) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** 40 short-lived connections, 8 at a time so that several workers have work at once. */
async function spread(port: number): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (let batch = 0; batch < 5; batch++) {
    for (const pid of await Promise.all(Array.from({ length: 8 }, () => servedBy(port)))) counts.set(pid, (counts.get(pid) ?? 0) + 1);
  }
  return counts;
}

/** Inodes of the sockets listening on `port` (IPv4, state 0A), from /proc/net/tcp. */
function listeningInodes(port: number): Set<string> {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const rows = readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  return new Set(rows.filter((r) => r[1]?.endsWith(hexPort) && r[3] === '0A').map((r) => r[9]));
}

/** Whether process `pid` holds one of `inodes` open: who can accept. */
function holdsListener(pid: number, inodes: Set<string>): boolean {
  return readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
    } catch {
      return false;
    }
  });
}

describe('event-loop-per-core', () => {
  let backend: RunningBackend;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    backend = await startBackend({ latency: { dist: 'fixed', ms: 5 }, limit: 64 });
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    await backend?.close();
  });

  async function serve(extra: object): Promise<{ child: ChildProcess; port: number; tag: string }> {
    const { tag, env } = newTag();
    const config = { model: 'event-loop-per-core', workload, backend: { host: '127.0.0.1', port: backend.port }, ...extra };
    const child = fork(SERVE_MAIN, [], { env: { ...env, SRVLENS_SERVE_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.push(child);
    const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit')])) as [{ type: string; port: number; message?: string }];
    if (message?.type !== 'ready') throw new Error(`serve-main did not start: ${JSON.stringify(message)}`);
    return { child, port: message.port, tag };
  }

  for (const policy of ['none', 'rr']) {
    it(`spreads short-lived connections over its worker processes (policy ${policy})`, async () => {
      const { child, port, tag } = await serve({ size: { processes: 2 }, policy });
      const titles = taggedProcesses(tag).map((p) => p.cmd.trim()).sort();
      expect(titles).toEqual([
        'srvlens-server:event-loop-per-core:primary',
        'srvlens-server:event-loop-per-core:worker-0',
        'srvlens-server:event-loop-per-core:worker-1',
      ]);
      const workerPids = taggedProcesses(tag).filter((p) => p.pid !== child.pid).map((p) => p.pid);

      // 'none': every worker accepts on the shared socket; 'rr': only the primary does, and hands connections out.
      const listener = listeningInodes(port);
      expect(listener.size).toBe(1);
      expect(workerPids.map((pid) => holdsListener(pid, listener))).toEqual(policy === 'none' ? [true, true] : [false, false]);
      expect(holdsListener(child.pid!, listener)).toBe(true);

      const counts = await spread(port);
      process.stdout.write(`event-loop-per-core policy ${policy}: connections per worker ${[...counts.values()].join('/')}\n`);
      expect([...counts.values()].reduce((a, b) => a + b)).toBe(40);
      expect([...counts.keys()].sort()).toEqual(workerPids.sort());

      // The primary leaving (the runner gone) takes its workers with it.
      child.disconnect();
      expect(await waitUntil(() => taggedProcesses(tag).length === 0, 10_000)).toBe(true);
    });
  }

  it('refuses an unknown policy, naming the ones it has', async () => {
    await expect(serve({ policy: 'fair' })).rejects.toThrow(/policy must be one of none, rr, got 'fair'/);
  });
});
