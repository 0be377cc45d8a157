/** The servers kernel-tracer-cost loads: started as a pair of twins on ports of their own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli.js');

export interface Target {
  name: string;
  connections: number;
  /** Unmeasured load once, before the rounds: the JIT of the thread pool's nine isolates takes ~16 s (bench/overhead/models.ts). */
  warmupSeconds: number;
  /**
   * Each server's cap in a pair, in cores: low enough that the one autocannon (this process) saturates both, so
   * that each uses up its quota in most periods (the bench checks it).
   */
  pairCores: number;
  start(port: number): ChildProcess;
}

export function nginxTarget(): Target {
  return {
    name: 'nginx (2 workers)',
    connections: 50,
    warmupSeconds: 2,
    // At 0.25 a plain pair (~8.5k req/s each) used its quota in only 20-26 % of periods once: the generator's limit.
    pairCores: 0.2,
    start(port) {
      // A directory per server: the twins' pid files and temp paths must not meet.
      const dir = mkdtempSync(join(tmpdir(), 'srvlens-bench-nginx-'));
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${dir}/${k};`).join(' ');
      writeFileSync(
        join(dir, 'nginx.conf'),
        `worker_processes 2; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; ${temp} server { listen 127.0.0.1:${port}; location / { return 200 "ok\\n"; } } }
`,
      );
      return spawn('nginx', ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore', detached: true });
    },
  };
}

export const threadPoolTarget: Target = {
  name: 'thread-pool (8 threads)',
  // One keep-alive connection per pool thread: a thread serves its connection to the end (bench/overhead/models.ts).
  connections: 8,
  warmupSeconds: 16,
  pairCores: 0.35,
  start: (port) => spawn(process.execPath, [CLI, 'serve', '--model', 'thread-pool', '--size', 'threads=8', '--port', String(port)], { stdio: 'ignore', detached: true }),
};

export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      await r.arrayBuffer();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`nothing answered on port ${port}`);
}
