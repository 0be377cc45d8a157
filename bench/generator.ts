/**
 * The srvlens load generator against its peers: the same hello-world node:http server (its own process) driven by
 * the srvlens generator, autocannon and wrk, in rounds whose order rotates, so that a shared VM's drift falls on all
 * three alike. Each tool runs in a process of its own with the same connection count and closed-loop pacing (srvlens:
 * a closed-loop phase of N users with no think time, the equivalent of -c N), and we read its CPU from /proc.
 * A measurement, not a test: it exits 0 and says MISSED when the target (at least autocannon's rate) is missed.
 *
 * Equal CPU budgets (overhead/cpu-budget.ts): each tool runs in a cpu cgroup capped at `--budget` of a core, the
 * server in one uncapped and weighted above everything else, so that the tool, not the server or the machine's
 * other work, is what limits the rate: the rate is then the tool's own speed at that CPU, and a ratio of rates is
 * the inverse ratio of the tools' CPU per request. Uncapped, back to back on these shared 2 cores, the tools and the
 * server contend for the same cores and the ratio read 0.69..0.91 between runs of the same code. A trial is held to
 * it: the tool must have used its whole quota in at least half the scheduler periods (it was the bottleneck), or
 * the trial is listed as not tool-bound. `--budget off` (or no root / no cpu controller) runs them uncapped.
 *
 *   npm run build && node dist/bench/generator.js [--rounds 3] [--seconds 5] [--connections 50] [--threads N]
 *     [--budget CORES|off] [--json]
 *
 * wrk is Debian's (`apt-get install -y wrk`); without it that column is skipped.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FromGenerator } from '../src/load/messages.js';
import type { GeneratorConfig } from '../src/load/config.js';
import { SEND_TIME_HEADER, TRACEPARENT_HEADER, monoUs } from '../src/vocabulary/index.js';
import { CpuBudget, cpuBudgetUnavailable, throttledPct, type Throttling } from './overhead/cpu-budget.js';
import { MIN_SATURATED_PCT } from './overhead/summary.js';
import { processCpuSeconds } from './proc-cpu.js';
import { benchArgs } from './cli.js';

const GENERATOR_MAIN = fileURLToPath(new URL('../src/load/generator-process.js', import.meta.url));
const HELLO = fileURLToPath(new URL('./apps/hello-server.js', import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
/** How often the tool's CPU is read while it runs; the last reading before it exits is what counts (<= 100 ms lost). */
const CPU_POLL_MS = 100;
/**
 * Each tool's cap, in cores. Low enough that the fastest tool cannot saturate the server (wrk at 0.29 s of CPU per
 * 10k requests against the server's 0.6-0.8 s measured here: at 0.25 of a core wrk offers ~8.6k req/s and the
 * server needs ~0.6 of a core for it), high enough that each tool still runs its 50 connections at thousands a second.
 */
const DEFAULT_BUDGET_CORES = 0.25;

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
  /** Under a budget: the share of scheduler periods in which the tool used its whole quota (null: uncapped). */
  throttled_share: number | null;
  /** Under a budget: whether the tool was the bottleneck (throttled in MIN_SATURATED_PCT of periods or more, as a pair's servers must be). */
  tool_bound: boolean | null;
}

/** What a tool's run gives; the bench adds the server's side. */
type ToolRun = Omit<Trial, 'tool' | 'round' | 'server_cpu_s_per_10k' | 'throttled_share' | 'tool_bound'>;

interface Options {
  rounds: number;
  seconds: number;
  connections: number;
  threads: number;
  /** Each tool's cap in cores, or null: uncapped (`--budget off`, or no cgroups here: `budgetUnavailable` says why). */
  budget: number | null;
  budgetUnavailable: string | null;
  json: boolean;
}

function options(): Options {
  const values = benchArgs('generator', 'usage: node dist/bench/generator.js [--rounds N] [--seconds S] [--connections N] [--threads N] [--budget CORES|off] [--json]', {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    threads: { type: 'string', default: '1' },
    budget: { type: 'string', default: String(DEFAULT_BUDGET_CORES) },
    json: { type: 'boolean', default: false },
  });
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got '${v}'`);
    return n;
  };
  let budget: number | null = null;
  if (values.budget !== 'off') {
    budget = Number(values.budget);
    if (!(budget > 0 && budget <= 2)) throw new Error(`--budget must be a share of a core in (0, 2] or 'off', got '${values.budget}'`);
  }
  const budgetUnavailable = budget === null ? null : cpuBudgetUnavailable();
  if (budgetUnavailable !== null) budget = null;
  return {
    rounds: int('rounds', values.rounds!),
    seconds: int('seconds', values.seconds!),
    connections: int('connections', values.connections!),
    threads: int('threads', values.threads!),
    budget,
    budgetUnavailable,
    json: values.json!,
  };
}

/**
 * Runs `child` to its end, reading its CPU every CPU_POLL_MS; resolves with the last reading. `budget`: the tool's
 * cgroup, which the child joins at once (its threads and whatever it forks follow it).
 */
async function cpuOf(child: ChildProcess, budget: CpuBudget | null): Promise<number> {
  if (budget !== null && child.pid !== undefined) budget.add(child.pid);
  let last = 0;
  const timer = setInterval(() => {
    const s = child.pid !== undefined ? processCpuSeconds(child.pid) : null;
    if (s !== null) last = s;
  }, CPU_POLL_MS);
  await once(child, 'exit');
  clearInterval(timer);
  return last;
}

async function runSrvlens(port: number, o: Options, budget: CpuBudget | null): Promise<ToolRun> {
  const child = fork(GENERATOR_MAIN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const cpu = cpuOf(child, budget);
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

async function runAutocannon(port: number, o: Options, budget: CpuBudget | null): Promise<ToolRun> {
  const headers = SAME_HEADERS.flatMap(([name, value]) => ['-H', `${name}=${value}`]);
  const child = spawn(process.execPath, [AUTOCANNON, '-c', String(o.connections), '-d', String(o.seconds), ...headers, '-j', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const cpuS = await cpuOf(child, budget);
  const r = JSON.parse(out) as { requests: { total: number }; duration: number; '2xx': number };
  return summarise(r['2xx'], r.duration, cpuS);
}

async function runWrk(port: number, o: Options, budget: CpuBudget | null): Promise<ToolRun> {
  // Two threads: wrk's usual setting on a 2-core host (PLATFORM.md measured -t2 -c50).
  const headers = SAME_HEADERS.flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const child = spawn('wrk', ['-t2', `-c${o.connections}`, `-d${o.seconds}s`, ...headers, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const cpuS = await cpuOf(child, budget);
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

/** Per round, srvlens's figure over `peer`'s (the tools of a round ran in the same minute), in round order. */
function perRound(trials: Trial[], rounds: number, peer: Tool, f: (t: Trial) => number): number[] {
  return [...Array(rounds).keys()].flatMap((r) => {
    const [a, b] = [trials.find((t) => t.round === r && t.tool === 'srvlens'), trials.find((t) => t.round === r && t.tool === peer)];
    return a && b && f(b) > 0 ? [f(a) / f(b)] : [];
  });
}

async function main(): Promise<void> {
  const o = options();
  const tools: Tool[] = hasWrk() ? ['srvlens', 'autocannon', 'wrk'] : ['srvlens', 'autocannon'];
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (!tools.includes('wrk')) log('wrk not found (apt-get install -y wrk): comparing srvlens with autocannon only');
  if (o.budgetUnavailable !== null) log(`no equal CPU budgets (${o.budgetUnavailable}): the tools run uncapped`);
  const server = spawn(process.execPath, [HELLO], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  const port = Number(String(line).trim());
  // The server uncapped but weighted above everything else, so that it is never what a capped tool waits for.
  const serverBudget = o.budget === null ? null : CpuBudget.create('gen-server', null);
  const toolBudget = o.budget === null ? null : CpuBudget.create('gen-tool', o.budget);
  serverBudget?.add(server.pid!);
  const run: Record<Tool, (p: number, o: Options, b: CpuBudget | null) => Promise<ToolRun>> = { srvlens: runSrvlens, autocannon: runAutocannon, wrk: runWrk };
  const trials: Trial[] = [];
  try {
    // A short unmeasured run first, uncapped, so that the server's JIT is warm for whichever tool goes first.
    await runAutocannon(port, { ...o, seconds: 1 }, null);
    for (let round = 0; round < o.rounds; round++) {
      const order = tools.map((_, i) => tools[(i + round) % tools.length]);
      for (const tool of order) {
        const before = processCpuSeconds(server.pid!) ?? NaN;
        const throttledBefore: Throttling | null = toolBudget?.throttling() ?? null;
        const r = await run[tool](port, o, toolBudget);
        const serverCpu = (processCpuSeconds(server.pid!) ?? NaN) - before;
        const throttledAfter = toolBudget?.throttling() ?? null;
        const pct = throttledBefore && throttledAfter ? throttledPct(throttledBefore, throttledAfter) : null;
        const share = pct === null ? null : pct / 100;
        const t: Trial = { tool, round, ...r, server_cpu_s_per_10k: (serverCpu * 10_000) / r.requests, throttled_share: share, tool_bound: pct === null ? null : pct >= MIN_SATURATED_PCT };
        trials.push(t);
        const capped = share === null ? '' : `, tool throttled in ${(share * 100).toFixed(0)} % of periods${t.tool_bound ? '' : ' (NOT tool-bound)'}`;
        log(`round ${round + 1}/${o.rounds} ${tool.padEnd(10)} ${t.rps.toFixed(0).padStart(7)} req/s  ${t.cpu_s.toFixed(2)} s CPU  ${t.cpu_s_per_10k.toFixed(3)} s CPU per 10k requests, server ${t.server_cpu_s_per_10k.toFixed(3)}${capped}`);
      }
    }
  } finally {
    server.stdin!.end();
    server.kill();
    toolBudget?.remove();
    serverBudget?.remove();
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
  const ratios = {
    rps_over_autocannon: perRound(trials, o.rounds, 'autocannon', (t) => t.rps),
    rps_over_wrk: tools.includes('wrk') ? perRound(trials, o.rounds, 'wrk', (t) => t.rps) : [],
    cpu_over_autocannon: perRound(trials, o.rounds, 'autocannon', (t) => t.cpu_s_per_10k),
  };
  const ratio = median(ratios.rps_over_autocannon);
  const notToolBound = trials.filter((t) => t.tool_bound === false).map((t) => `${t.tool} round ${t.round + 1}`);
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.versions.node}`;
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ machine, settings: o, summary, srvlens_over_autocannon: ratio, ratios, not_tool_bound: notToolBound, trials }, null, 2)}\n`);
    return;
  }
  const spread = (xs: number[]) => (xs.length === 0 ? '-' : `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}..${Math.max(...xs).toFixed(3)})`);
  const out = [
    `machine: ${machine}`,
    `hello-world node:http, ${o.connections} connections, closed loop, ${o.seconds} s x ${o.rounds} rounds (medians)${o.threads > 1 ? `, srvlens on ${o.threads} threads` : ''}`,
    o.budget === null ? `each tool uncapped${o.budgetUnavailable ? ` (${o.budgetUnavailable})` : ''}` : `each tool capped at ${o.budget} of a core (cpu cgroup), the server uncapped`,
    '',
    `${'tool'.padEnd(12)}${'req/s'.padStart(9)}${'CPU s / 10k req'.padStart(18)}${'server CPU s / 10k'.padStart(21)}   rounds`,
    ...summary.map(
      (s) =>
        `${s.tool.padEnd(12)}${s.rps.toFixed(0).padStart(9)}${s.cpu_s_per_10k.toFixed(3).padStart(18)}${s.server_cpu_s_per_10k.toFixed(3).padStart(21)}   ${s.rounds.join(' ')}`,
    ),
    '',
    `per-round ratios, median (min..max):`,
    `  srvlens / autocannon req/s: ${spread(ratios.rps_over_autocannon)}; target >= 1: ${ratio >= 1 ? 'met' : 'MISSED'}`,
    ...(tools.includes('wrk') ? [`  srvlens / wrk req/s: ${spread(ratios.rps_over_wrk)}; target >= 0.8: ${median(ratios.rps_over_wrk) >= 0.8 ? 'met' : 'MISSED'}`] : []),
    `  srvlens / autocannon CPU per request: ${spread(ratios.cpu_over_autocannon)}; target <= 1: ${median(ratios.cpu_over_autocannon) <= 1 ? 'met' : 'MISSED'}`,
    ...(notToolBound.length > 0 ? ['', `not tool-bound (the server or the machine paced them, not their CPU): ${notToolBound.join(', ')}`] : []),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
