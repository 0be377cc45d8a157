/**
 * What the kernel tracer (agents/kernel/) costs the server it watches: nginx (2 epoll workers, `return 200`) and the
 * reference thread pool (8 threads, default workload, no agent) at saturation under autocannon, without the tracer
 * and with each of its backends (the libbpf tracer, srvlens's default, and bpftrace, its fallback), in rounds whose
 * order rotates. The figure is the throughput ratio (with / without, in the same round, median over rounds) per
 * backend; target: at least 0.95 for the one srvlens runs by default. Beside it, the host's context switches per
 * second during each trial (from /proc/stat), since the sched tracepoints run at every switch and wake-up, and the
 * requests the tracer counted against autocannon's (it must see what it costs).
 * A measurement, not a test: it exits 0 and prints MISSED where the target is missed. Root, nginx and a backend needed.
 *
 *   npm run build && node dist/bench/kernel-tracer-cost.js [--rounds 3] [--seconds 5] [--only nginx] [--backends libbpf,bpftrace]
 *     [--probe-stats] [--json]
 *
 * --backends: the backends to run (by default both; one that cannot run here is left out, saying why);
 * --only runs the servers whose name has that in it; --probe-stats prints, after each traced trial, what each of
 * the tracer's programs cost by the kernel's own account (bpf-prog-stats.ts; it costs a little itself); --program
 * takes a module whose default export rewrites the tracer's program (text to text), and runs what it returns in the
 * tracer's place: an ablation of the bpftrace program, throughput only, nothing counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { KernelTracerUnavailable, kernelTracerAvailability, startKernelTracer, tracerProgramFor, type TracerBackend } from '../agents/kernel/kernel-tracer.js';
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
  /** The tracer's backend; null: the plain trial. */
  backend: TracerBackend | null;
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

async function trial(t: Target, pid: number, port: number, seconds: number, backend: TracerBackend | null, probeStats: boolean, rewrite?: Rewrite): Promise<Trial> {
  const tracer = backend === null ? null : rewrite === undefined ? await startKernelTracer({ pid, intervalMs: 1000, backend }) : await startRewritten(pid, rewrite);
  const tracedFrom = performance.now();
  const s0 = switches();
  const t0 = performance.now();
  const { done } = runWindowed({ url: `http://127.0.0.1:${port}/`, connections: t.connections, warmupSeconds: 1, seconds, pids: [pid], helpers: [] }, () => false);
  const { result, window } = await done;
  const switchesPerS = (switches() - s0) / ((performance.now() - t0) / 1000);
  if (tracer && probeStats) {
    const costs = probeCosts(process.pid);
    process.stderr.write(`  BPF programs of ${backend} over the whole trial (warm-up included):\n${probeCostTable(costs, (performance.now() - tracedFrom) / 1000, result['2xx'] + result.non2xx)}\n`);
  }
  const counted = tracer ? (await tracer.stop()).responses : null;
  return { backend, rps: window.answered / window.seconds, switchesPerS, traced_requests: counted, answered: result['2xx'] + result.non2xx };
}

/** The backends asked for, or each that can run here, srvlens's default first. */
function chooseBackends(asked: string | undefined): TracerBackend[] {
  const all: TracerBackend[] = ['libbpf', 'bpftrace'];
  const wanted = asked === undefined ? all : asked.split(',').map((b) => b.trim());
  const bad = wanted.filter((b) => !all.includes(b as TracerBackend));
  if (bad.length > 0) throw new Error(`--backends: ${bad.join(', ')} is not one of ${all.join(', ')}`);
  const runnable = (wanted as TracerBackend[]).filter((b) => {
    try {
      kernelTracerAvailability(b);
      return true;
    } catch (err) {
      if (!(err instanceof KernelTracerUnavailable)) throw err;
      process.stderr.write(`${b}: not run: ${err.message}\n`);
      return false;
    }
  });
  if (runnable.length === 0) throw new Error('no kernel tracer backend can run here');
  return runnable;
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
      backends: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const probeStats = values['probe-stats'];
  const rewrite = values.program === undefined ? undefined : ((await import(resolve(values.program))) as { default: Rewrite }).default;
  const backends = values.program !== undefined ? (['bpftrace'] as const) : chooseBackends(values.backends);
  // What srvlens runs here when not told: the figure held to the target.
  const srvlensDefault = kernelTracerAvailability().backend;
  const statsOff = probeStats ? enableBpfStats() : () => undefined;
  const results = [];
  for (const t of [nginxTarget(), threadPoolTarget].filter((x) => values.only === undefined || x.name.includes(values.only))) {
    const port = await freePort();
    const child = t.start(port);
    try {
      await waitListening(port);
      process.stderr.write(`${t.name}: warming up ${t.warmupSeconds} s\n`);
      await runWindowed({ url: `http://127.0.0.1:${port}/`, connections: t.connections, warmupSeconds: 0, seconds: t.warmupSeconds, pids: [child.pid!], helpers: [] }, () => false).done;
      const trials: Trial[][] = [];
      const slots: (TracerBackend | null)[] = [null, ...backends];
      for (let r = 0; r < rounds; r++) {
        // The order rotates (plain first, then second...), so that a drift of the VM falls on each alike.
        const order = slots.map((_, i) => slots[(i + r) % slots.length]);
        const round: Trial[] = [];
        for (const backend of order) {
          const x = await trial(t, child.pid!, port, seconds, backend, probeStats, rewrite);
          process.stderr.write(`${t.name} round ${r + 1} ${(backend ?? 'plain').padEnd(8)}: ${x.rps.toFixed(0)} req/s, ${x.switchesPerS.toFixed(0)} switches/s${x.traced_requests === null ? '' : `, tracer counted ${x.traced_requests} of ${x.answered}`}\n`);
          round.push(x);
        }
        trials.push(round);
      }
      const plain = trials.map((round) => round.find((x) => x.backend === null)!);
      for (const backend of backends) {
        const traced = trials.map((round) => round.find((x) => x.backend === backend)!);
        const ratios = traced.map((x, r) => x.rps / plain[r].rps);
        const ratio = median(ratios);
        results.push({
          server: t.name,
          backend,
          default: backend === srvlensDefault,
          connections: t.connections,
          plain_rps: median(plain.map((x) => x.rps)),
          traced_rps: median(traced.map((x) => x.rps)),
          ratio,
          ratios,
          switches_per_s: median(traced.map((x) => x.switchesPerS)),
          target: TARGET,
          met: ratio >= TARGET,
          trials: trials.flat(),
        });
      }
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
  process.stdout.write(`kernel tracer cost: throughput with / without it, median of ${rounds} rounds of ${seconds} s, target >= ${TARGET} for srvlens's default (*)\n`);
  for (const r of results) {
    process.stdout.write(
      `  ${r.server.padEnd(24)} ${(r.default ? `${r.backend}*` : r.backend).padEnd(9)} ${r.plain_rps.toFixed(0).padStart(6)} -> ${r.traced_rps.toFixed(0).padStart(6)} req/s  ratio ${r.ratio.toFixed(3)} (rounds ${r.ratios.map((x) => x.toFixed(3)).join(', ')})  ${r.switches_per_s.toFixed(0)} switches/s  ${r.default ? (r.met ? 'met' : 'MISSED') : ''}\n`,
    );
  }
}

await main();
