/**
 * What the kernel tracer (agents/kernel/) costs the server it watches: nginx (2 epoll workers, `return 200`) and the
 * reference thread pool (8 threads, default workload, no agent) at saturation under autocannon, with and without
 * the tracer attached, in rounds whose order alternates. The figure is the throughput ratio (with / without, median
 * over rounds); target: at least 0.95. Beside it, the host's context switches per second during each trial (from
 * /proc/stat), since the sched tracepoints run at every switch and wake-up, and the requests the tracer counted
 * against autocannon's (it must see what it costs).
 * A measurement, not a test: it exits 0 and prints MISSED where the target is missed. Root, bpftrace and nginx needed.
 *
 *   npm run build && node dist/bench/kernel-tracer-cost.js [--rounds 3] [--seconds 5] [--only nginx] [--probe-stats] [--json]
 *
 * --only runs the servers whose name has that in it; --probe-stats prints, after each traced trial, what each of
 * the tracer's programs cost by the kernel's own account (bpf-prog-stats.ts; it costs a little itself); --program
 * takes a module whose default export rewrites the tracer's program (text to text), and runs what it returns in the
 * tracer's place: an ablation, throughput only, nothing counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKernelTracer, tracerProgramFor } from '../agents/kernel/kernel-tracer.js';
import { enableBpfStats, probeCosts, probeCostTable } from './bpf-prog-stats.js';
import { runWindowed } from './overhead/window.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const TARGET = 0.95;

interface Target {
  name: string;
  connections: number;
  /** Unmeasured load once, before the rounds: the JIT of the thread pool's nine isolates takes ~16 s (bench/overhead/models.ts). */
  warmupSeconds: number;
  start(port: number): ChildProcess;
}

function nginxTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'srvlens-bench-nginx-'));
  return {
    name: 'nginx (2 workers)',
    connections: 50,
    warmupSeconds: 2,
    start(port) {
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

const threadPoolTarget: Target = {
  name: 'thread-pool (8 threads)',
  // One keep-alive connection per pool thread: a thread serves its connection to the end (bench/overhead/models.ts).
  connections: 8,
  warmupSeconds: 16,
  start: (port) => spawn(process.execPath, [CLI, 'serve', '--model', 'thread-pool', '--size', 'threads=8', '--port', String(port)], { stdio: 'ignore', detached: true }),
};

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitListening(port: number): Promise<void> {
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

const switches = () => Number(/\nctxt (\d+)/.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);

interface Trial {
  traced: boolean;
  rps: number;
  switchesPerS: number;
  /** Requests the tracer counted, and autocannon's answered ones over the same trial (whole run, warm-up included). */
  traced_requests: number | null;
  answered: number;
}

type Rewrite = (program: string) => string;

/** The tracer's program for `pid` rewritten, run in the tracer's place: resolves once attached, with what stops it. */
async function startRewritten(pid: number, rewrite: Rewrite): Promise<{ stop(): Promise<{ responses: number | null }> }> {
  const child = spawn('bpftrace', ['-f', 'json', '-e', rewrite(tracerProgramFor(pid, 1000))], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('srvlens-ready') && resolve());
    child.once('exit', (code) => reject(new Error(`bpftrace exited (${code}) before it was ready`)));
  });
  child.stdout.resume();
  return {
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
      return { responses: null };
    },
  };
}

async function trial(t: Target, pid: number, port: number, seconds: number, traced: boolean, probeStats: boolean, rewrite?: Rewrite): Promise<Trial> {
  const tracer = !traced ? null : rewrite === undefined ? await startKernelTracer({ pid, intervalMs: 1000 }) : await startRewritten(pid, rewrite);
  const tracedFrom = performance.now();
  const s0 = switches();
  const t0 = performance.now();
  const { done } = runWindowed({ url: `http://127.0.0.1:${port}/`, connections: t.connections, warmupSeconds: 1, seconds, pids: [pid], helpers: [] }, () => false);
  const { result, window } = await done;
  const switchesPerS = (switches() - s0) / ((performance.now() - t0) / 1000);
  if (tracer && probeStats) {
    const costs = probeCosts(process.pid);
    process.stderr.write(`  BPF programs over the whole trial (warm-up included):\n${probeCostTable(costs, (performance.now() - tracedFrom) / 1000, result['2xx'] + result.non2xx)}\n`);
  }
  const counted = tracer ? (await tracer.stop()).responses : null;
  return { traced, rps: window.answered / window.seconds, switchesPerS, traced_requests: counted, answered: result['2xx'] + result.non2xx };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      only: { type: 'string' },
      'probe-stats': { type: 'boolean', default: false },
      program: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const probeStats = values['probe-stats'];
  const rewrite = values.program === undefined ? undefined : ((await import(resolve(values.program))) as { default: Rewrite }).default;
  const statsOff = probeStats ? enableBpfStats() : () => undefined;
  const results = [];
  for (const t of [nginxTarget(), threadPoolTarget].filter((x) => values.only === undefined || x.name.includes(values.only))) {
    const port = await freePort();
    const child = t.start(port);
    try {
      await waitListening(port);
      process.stderr.write(`${t.name}: warming up ${t.warmupSeconds} s\n`);
      await runWindowed({ url: `http://127.0.0.1:${port}/`, connections: t.connections, warmupSeconds: 0, seconds: t.warmupSeconds, pids: [child.pid!], helpers: [] }, () => false).done;
      const trials: Trial[] = [];
      for (let r = 0; r < rounds; r++) {
        // Alternating which goes first, so that a drift of the VM falls on both alike.
        for (const traced of r % 2 === 0 ? [false, true] : [true, false]) {
          const x = await trial(t, child.pid!, port, seconds, traced, probeStats, rewrite);
          process.stderr.write(`${t.name} round ${r + 1} ${traced ? 'traced' : 'plain '}: ${x.rps.toFixed(0)} req/s, ${x.switchesPerS.toFixed(0)} switches/s${x.traced_requests === null ? '' : `, tracer counted ${x.traced_requests} of ${x.answered}`}\n`);
          trials.push(x);
        }
      }
      const ratios = Array.from({ length: rounds }, (_, r) => trials.filter((x, i) => Math.floor(i / 2) === r).reduce((a, x) => (x.traced ? a * x.rps : a / x.rps), 1));
      const ratio = median(ratios);
      results.push({
        server: t.name,
        connections: t.connections,
        plain_rps: median(trials.filter((x) => !x.traced).map((x) => x.rps)),
        traced_rps: median(trials.filter((x) => x.traced).map((x) => x.rps)),
        ratio,
        ratios,
        switches_per_s: median(trials.filter((x) => x.traced).map((x) => x.switchesPerS)),
        target: TARGET,
        met: ratio >= TARGET,
        trials,
      });
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  statsOff();
  if (values.json) {
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), rounds, seconds, results }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`kernel tracer cost: throughput with / without it, median of ${rounds} rounds of ${seconds} s, target >= ${TARGET}\n`);
  for (const r of results) {
    process.stdout.write(
      `  ${r.server.padEnd(24)} ${r.plain_rps.toFixed(0).padStart(6)} -> ${r.traced_rps.toFixed(0).padStart(6)} req/s  ratio ${r.ratio.toFixed(3)} (rounds ${r.ratios.map((x) => x.toFixed(3)).join(', ')})  ${r.switches_per_s.toFixed(0)} switches/s  ${r.met ? 'met' : 'MISSED'}\n`,
    );
  }
}

await main();
