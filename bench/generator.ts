/**
 * The srvlens load generator against its peers: the same hello-world node:http server (its own process) driven by
 * the srvlens generator, autocannon and wrk, in rounds whose order rotates, so that a shared VM's drift falls on all
 * three alike. Each tool runs in a process of its own with the same connection count and closed-loop pacing (srvlens:
 * a closed-loop phase of N users with no think time, the equivalent of -c N), and we read its CPU from /proc.
 * A measurement, not a test: it exits 0 and says MISSED when the target (at least autocannon's rate) is missed.
 *
 *   npm run build && node dist/bench/generator.js [--rounds 3] [--seconds 5] [--connections 50] [--threads N] [--json]
 *
 * wrk is Debian's (`apt-get install -y wrk`); without it that column is skipped.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FromGenerator } from '../src/load/messages.js';
import type { GeneratorConfig } from '../src/load/config.js';
import { SEND_TIME_HEADER, TRACEPARENT_HEADER, monoUs } from '../src/vocabulary/index.js';
import { processCpuSeconds } from './proc-cpu.js';

const GENERATOR_MAIN = fileURLToPath(new URL('../src/load/generator-process.js', import.meta.url));
const HELLO = fileURLToPath(new URL('./apps/hello-server.js', import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
/** How often the tool's CPU is read while it runs; the last reading before it exits is what counts (<= 100 ms lost). */
const CPU_POLL_MS = 100;

type Tool = 'srvlens' | 'autocannon' | 'wrk';

interface Trial {
  tool: Tool;
  round: number;
  requests: number;
  seconds: number;
  rps: number;
  cpu_s: number;
  cpu_s_per_10k: number;
  /** The server's CPU over the trial per 10k requests: the same bytes should cost it the same whichever tool sends them. */
  server_cpu_s_per_10k: number;
}

/** What a tool's run gives; the bench adds the server's side. */
type ToolRun = Omit<Trial, 'tool' | 'round' | 'server_cpu_s_per_10k'>;

interface Options {
  rounds: number;
  seconds: number;
  connections: number;
  threads: number;
  json: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      threads: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got '${v}'`);
    return n;
  };
  return { rounds: int('rounds', values.rounds!), seconds: int('seconds', values.seconds!), connections: int('connections', values.connections!), threads: int('threads', values.threads!), json: values.json! };
}

/** Runs `child` to its end, reading its CPU every CPU_POLL_MS; resolves with the last reading. */
async function cpuOf(child: ChildProcess): Promise<number> {
  let last = 0;
  const timer = setInterval(() => {
    const s = child.pid !== undefined ? processCpuSeconds(child.pid) : null;
    if (s !== null) last = s;
  }, CPU_POLL_MS);
  await once(child, 'exit');
  clearInterval(timer);
  return last;
}

async function runSrvlens(port: number, o: Options): Promise<ToolRun> {
  const child = fork(GENERATOR_MAIN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const cpu = cpuOf(child);
  const config: GeneratorConfig = {
    target: { host: '127.0.0.1', port },
    request: { method: 'GET', path: '/' },
    connections: o.connections,
    timeout_ms: 5000,
    interval_ms: 1000,
    threads: o.threads,
    phases: [{ name: 'max', kind: 'closed', users: o.connections, duration_s: o.seconds }],
  };
  let completed = 0;
  let phaseMs = 0;
  child.on('message', (m: FromGenerator) => {
    // Only the phase's intervals, as the other tools count only their run (the drain's few answers are left out).
    if (m.type !== 'interval' || m.data.phase !== 'max') return;
    completed += m.data.completed;
    phaseMs += 1000;
  });
  child.send({ type: 'start', config });
  const cpuS = await cpu;
  return summarise(completed, phaseMs / 1000, cpuS);
}

/**
 * The two headers every srvlens request carries (its send time, for the server's agent to join on; a W3C trace
 * context, for exemplars), with values of the same length: autocannon and wrk send them too, so that every tool
 * sends the server the same bytes and the server's parsing costs them alike (measured: the two headers alone take
 * 4-11 % off this server's rate).
 */
const SAME_HEADERS: [string, string][] = [
  [TRACEPARENT_HEADER, '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01'],
  [SEND_TIME_HEADER, String(Math.round(monoUs()))],
];

async function runAutocannon(port: number, o: Options): Promise<ToolRun> {
  const headers = SAME_HEADERS.flatMap(([name, value]) => ['-H', `${name}=${value}`]);
  const child = spawn(process.execPath, [AUTOCANNON, '-c', String(o.connections), '-d', String(o.seconds), ...headers, '-j', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const cpuS = await cpuOf(child);
  const r = JSON.parse(out) as { requests: { total: number }; duration: number; '2xx': number };
  return summarise(r['2xx'], r.duration, cpuS);
}

async function runWrk(port: number, o: Options): Promise<ToolRun> {
  // Two threads: wrk's usual setting on a 2-core host (PLATFORM.md measured -t2 -c50).
  const headers = SAME_HEADERS.flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const child = spawn('wrk', ['-t2', `-c${o.connections}`, `-d${o.seconds}s`, ...headers, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const cpuS = await cpuOf(child);
  const total = Number(/(\d+) requests in ([\d.]+)(m?s)/.exec(out)?.[1]);
  const m = /\d+ requests in ([\d.]+)(m?s)/.exec(out);
  if (!m || !Number.isFinite(total)) throw new Error(`cannot read wrk's output:\n${out}`);
  return summarise(total, Number(m[1]) / (m[2] === 'ms' ? 1000 : 1), cpuS);
}

function summarise(requests: number, seconds: number, cpuS: number): ToolRun {
  return { requests, seconds, rps: requests / seconds, cpu_s: cpuS, cpu_s_per_10k: requests > 0 ? (cpuS * 10_000) / requests : NaN };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

async function main(): Promise<void> {
  const o = options();
  const tools: Tool[] = hasWrk() ? ['srvlens', 'autocannon', 'wrk'] : ['srvlens', 'autocannon'];
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (!tools.includes('wrk')) log('wrk not found (apt-get install -y wrk): comparing srvlens with autocannon only');
  const server = spawn(process.execPath, [HELLO], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  const port = Number(String(line).trim());
  const run: Record<Tool, (p: number, o: Options) => Promise<ToolRun>> = { srvlens: runSrvlens, autocannon: runAutocannon, wrk: runWrk };
  const trials: Trial[] = [];
  try {
    // A short unmeasured run first, so that the server's JIT is warm for whichever tool goes first.
    await runAutocannon(port, { ...o, seconds: 1 });
    for (let round = 0; round < o.rounds; round++) {
      const order = tools.map((_, i) => tools[(i + round) % tools.length]);
      for (const tool of order) {
        const before = processCpuSeconds(server.pid!) ?? NaN;
        const r = await run[tool](port, o);
        const serverCpu = (processCpuSeconds(server.pid!) ?? NaN) - before;
        const t: Trial = { tool, round, ...r, server_cpu_s_per_10k: (serverCpu * 10_000) / r.requests };
        trials.push(t);
        log(`round ${round + 1}/${o.rounds} ${tool.padEnd(10)} ${t.rps.toFixed(0).padStart(7)} req/s  ${t.cpu_s.toFixed(2)} s CPU  ${t.cpu_s_per_10k.toFixed(3)} s CPU per 10k requests, server ${t.server_cpu_s_per_10k.toFixed(3)}`);
      }
    }
  } finally {
    server.stdin!.end();
    server.kill();
  }
  const summary = tools.map((tool) => {
    const own = trials.filter((t) => t.tool === tool);
    return {
      tool,
      rps: median(own.map((t) => t.rps)),
      cpu_s_per_10k: median(own.map((t) => t.cpu_s_per_10k)),
      server_cpu_s_per_10k: median(own.map((t) => t.server_cpu_s_per_10k)),
      rounds: own.map((t) => Math.round(t.rps)),
    };
  });
  // Per round, srvlens against autocannon (run back to back), then the median of those ratios.
  const ratio = median([...Array(o.rounds).keys()].map((r) => trials.find((t) => t.round === r && t.tool === 'srvlens')!.rps / trials.find((t) => t.round === r && t.tool === 'autocannon')!.rps));
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.versions.node}`;
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ machine, settings: o, summary, srvlens_over_autocannon: ratio, trials }, null, 2)}\n`);
    return;
  }
  const out = [
    `machine: ${machine}`,
    `hello-world node:http, ${o.connections} connections, closed loop, ${o.seconds} s x ${o.rounds} rounds (medians)${o.threads > 1 ? `, srvlens on ${o.threads} threads` : ''}`,
    '',
    `${'tool'.padEnd(12)}${'req/s'.padStart(9)}${'CPU s / 10k req'.padStart(18)}${'server CPU s / 10k'.padStart(21)}   rounds`,
    ...summary.map(
      (s) =>
        `${s.tool.padEnd(12)}${s.rps.toFixed(0).padStart(9)}${s.cpu_s_per_10k.toFixed(3).padStart(18)}${s.server_cpu_s_per_10k.toFixed(3).padStart(21)}   ${s.rounds.join(' ')}`,
    ),
    '',
    `srvlens / autocannon req/s: ${ratio.toFixed(3)} (median of per-round ratios); target >= 1: ${ratio >= 1 ? 'met' : 'MISSED'}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
