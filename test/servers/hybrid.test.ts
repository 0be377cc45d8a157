/**
 * The hybrid model as the runner starts it: serve-main forked from dist/ (`npx tsc -p .` first; `npm test` does
 * it), its pool threads being real threads of that process, seen in /proc.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBackend, startBackend } from '../../src/servers/backend/backend.js';

const SERVE_MAIN = join(import.meta.dirname, '../../dist/src/servers/serve-main.js');
const workload = { parse_us: 100, process_us: 2000, transform_us: 100, backend_calls: 1, response_bytes: 700 };

function request(port: number): Promise<{ status: number; threads: number[]; length: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false }, (res) => {
        let length = 0;
        res.on('data', (c: Buffer) => (length += c.length));
        res.on('end', () => {
          const header = String(res.headers['x-srvlens-cpu-threads'] ?? '');
          resolve({ status: res.statusCode ?? 0, threads: header === '' ? [] : header.split(',').map(Number), length });
        });
      })
      .on('error', reject);
  });
}

function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
}

describe('hybrid', () => {
  let backend: RunningBackend;
  let child: ChildProcess;
  let port: number;
  beforeAll(async () => {
    backend = await startBackend({ latency: { dist: 'fixed', ms: 20 }, limit: 64 });
    const config = { model: 'hybrid', size: { threads: 2 }, workload, backend: { host: '127.0.0.1', port: backend.port } };
    child = fork(SERVE_MAIN, [], { env: { ...process.env, SRVLENS_SERVE_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit')])) as [{ type: string; port: number }];
    if (message?.type !== 'ready') throw new Error(`serve-main did not start: ${JSON.stringify(message)}`);
    port = message.port;
  });
  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    }
    await backend?.close();
  });

  it('names its pool threads', () => {
    const names = threadNames(child.pid!);
    expect(names.filter((n) => n.startsWith('cpu-')).sort()).toEqual(['cpu-0', 'cpu-1']);
  });

  it('runs every CPU stage of every request on a pool thread, never on the main thread, and uses the whole pool', async () => {
    const replies = await Promise.all(Array.from({ length: 12 }, () => request(port)));
    expect(replies.every((r) => r.status === 200 && r.length === 700)).toBe(true);
    // parse, process and transform: three hand-offs per request, none to threadId 0 (the main thread).
    expect(replies.every((r) => r.threads.length === 3 && r.threads.every((t) => t > 0))).toBe(true);
    // Twelve requests at once keep both threads busy; there are no more threads than its size.
    expect(new Set(replies.flatMap((r) => r.threads)).size).toBe(2);
  });
});
