/**
 * What the srvlens agent costs a server that serves nothing: the CPU it spends whatever the request rate, paid by
 * every process it runs in (prefork's four workers each carry a whole agent). Reference servers sit idle, each without
 * the agent, with it exporting nothing (OTEL_METRICS_EXPORTER=none) and with it exporting over OTLP to a srvlens
 * collector in this process, side by side in the same seconds; each thread's on-CPU time is read from
 * /proc/PID/task/TID/schedstat (ns) at the start and end of the window. A measurement, not a test.
 *
 *   node dist/bench/agent-idle-cost.js [--model event-loop|prefork|all] [--rounds 1] [--seconds 20] [--warmup 25]
 *                                      [--other-agent FILE] [--json]
 *
 * --other-agent: another build's preload (its dist/agents/node/register.js), run as two more variants in the same
 * seconds: a change's before and after in one run.
 *
 * Idle CPU is CPU time, not throughput: a busy machine delays it but hardly changes it. Still run it under the load
 * lock: the OTLP exports go to this process, and a starved agent thread folds late intervals into one harvest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { treePids } from '../agents/proc/tree-snapshot.js';
import { ChildSet, type ManagedChild } from '../src/scenario/children.js';
import { startCollector } from '../src/collect/receiver.js';
import { ENTRY } from '../src/vocabulary/package-paths.js';
import { median } from './overhead/summary.js';
import { WORKLOADS } from './overhead/workloads.js';
import type { SuiteJson } from './suite/specs.js';
import { benchArgs, usageExit } from './cli.js';

const INTERVAL_MS = 1000;
const READY_TIMEOUT_MS = 15_000;
const MODELS = {
  'event-loop': { model: 'event-loop' },
  prefork: { model: 'prefork', size: { processes: 4 } },
} as const;
type ModelName = keyof typeof MODELS;

type Variant = 'none' | 'agent, export none' | 'agent, OTLP' | 'other agent, export none' | 'other agent, OTLP';

const USAGE =
  'usage: node dist/bench/agent-idle-cost.js [--model event-loop|prefork|all] [--rounds N] [--seconds S] [--warmup S] [--other-agent FILE] [--json]';
const ARGS = benchArgs('agent-idle-cost', USAGE, {
  model: { type: 'string', default: 'all' },
  rounds: { type: 'string', default: '1' },
  seconds: { type: 'string', default: '20' },
  warmup: { type: 'string', default: '25' },
  'other-agent': { type: 'string', default: '' },
  json: { type: 'boolean', default: false },
});
const ROUNDS = Number(ARGS.rounds);
const SECONDS = Number(ARGS.seconds);
/**
 * Past the one-off start: the agent thread loads its exporter, V8 compiles its code, and at ~8 s V8's memory reducer
 * runs its full collections in every isolate (--trace-gc), which V8's helper threads take part in.
 */
const WARMUP_S = Number(ARGS.warmup);
const OTHER_AGENT = ARGS['other-agent'];
const VARIANTS: readonly Variant[] = [
  'none',
  'agent, export none',
  'agent, OTLP',
  ...(OTHER_AGENT ? (['other agent, export none', 'other agent, OTLP'] as const) : []),
];
const MODEL = ARGS.model;
const JSON_OUT = ARGS.json;
const say = JSON_OUT ? console.error : console.log;
if (MODEL !== 'all' && !(MODEL in MODELS)) usageExit('agent-idle-cost', USAGE, `--model must be event-loop, prefork or all, got '${MODEL}'`);
const models = (MODEL === 'all' ? Object.keys(MODELS) : [MODEL]) as ModelName[];

/** On-CPU ns of each thread of `pid`, with its name (/proc comm); threads that vanish while read are left out. */
function threadsOf(pid: number): Map<number, { comm: string; ns: number }> {
  const out = new Map<number, { comm: string; ns: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const dir = `/proc/${pid}/task/${t}`;
      const ns = Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0]);
      out.set(Number(t), { comm: readFileSync(`${dir}/comm`, 'utf8').trim(), ns });
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

interface ProcessCost {
  pid: number;
  role: 'server' | 'worker';
  msPerS: number;
  /** ms/s by thread name, the main thread as `main` (threads of one name summed: V8's helpers are all `node`). */
  threads: Map<string, number>;
}

/** Each process's and each thread name's CPU between two readings `seconds` apart. A thread born between counts from 0. */
function costs(pids: number[], before: Map<number, ReturnType<typeof threadsOf>>, seconds: number): ProcessCost[] {
  return pids.map((pid, i) => {
    const a = before.get(pid)!;
    const threads = new Map<string, number>();
    let ns = 0;
    for (const [tid, b] of threadsOf(pid)) {
      const d = b.ns - (a.get(tid)?.ns ?? 0);
      ns += d;
      // The main thread by its tid, whatever its comm (the process title, or node like V8's helpers).
      const name = tid === pid ? 'main' : b.comm;
      threads.set(name, (threads.get(name) ?? 0) + d / 1e6 / seconds);
    }
    return { pid, role: i === 0 ? 'server' : 'worker', msPerS: ns / 1e6 / seconds, threads };
  });
}

function launch(variant: Variant, metricsUrl: string): { execArgv: string[]; env: Record<string, string> } {
  if (variant === 'none') return { execArgv: [], env: {} };
  const env: Record<string, string> = { SRVLENS_INTERVAL_MS: String(INTERVAL_MS), SRVLENS_SERVER_NAME: 'agent-idle-cost' };
  if (variant.endsWith('OTLP')) env.SRVLENS_COLLECTOR_URL = metricsUrl;
  else env.OTEL_METRICS_EXPORTER = 'none';
  return { execArgv: ['--import', variant.startsWith('other') ? pathToFileURL(OTHER_AGENT).href : ENTRY.agent], env };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f1 = (x: number) => x.toFixed(2).padStart(6);

async function main(): Promise<void> {
  const children = new ChildSet();
  process.on('exit', () => children.killAllNow());
  let intervalsIn = 0;
  const collector = await startCollector({ intervalMs: INTERVAL_MS, onAgentIntervals: (i) => (intervalsIn += i.length) });
  const figures: SuiteJson['figures'] = [];
  try {
    const backend = children.fork('backend', ENTRY.backend, {
      env: { SRVLENS_BACKEND_CONFIG: JSON.stringify({ host: '127.0.0.1', port: 0, latency: { dist: 'fixed', ms: 1 }, limit: 64, intervalMs: INTERVAL_MS }) },
    });
    const backendPort = Number((await backend.waitFor('ready', READY_TIMEOUT_MS)).port);
    /** Per model and variant, per round: each process's cost. */
    const perRound = new Map<ModelName, Map<Variant, ProcessCost[][]>>(models.map((m) => [m, new Map(VARIANTS.map((v) => [v, []]))]));
    for (let round = 0; round < ROUNDS; round++) {
      // Every model's every variant at once: idle, they hardly meet, and all of them see the same seconds.
      const servers = models.flatMap((model) =>
        VARIANTS.map((variant) => {
          const { execArgv, env } = launch(variant, collector.metricsUrl);
          const config = { ...MODELS[model], host: '127.0.0.1', port: 0, workload: WORKLOADS.hello, backend: { host: '127.0.0.1', port: backendPort } };
          return { model, variant, child: children.fork(`${model} (${variant})`, ENTRY.serve, { execArgv, env: { ...env, SRVLENS_SERVE_CONFIG: JSON.stringify(config) } }) };
        }),
      );
      try {
        const roots = await Promise.all(servers.map(async (s) => Number((await s.child.waitFor('ready', READY_TIMEOUT_MS)).pid)));
        await sleep(WARMUP_S * 1000);
        const trees = roots.map((pid) => treePids(pid));
        const before = new Map(trees.flat().map((pid) => [pid, threadsOf(pid)]));
        const intervalsBefore = intervalsIn;
        const t0 = performance.now();
        await sleep(SECONDS * 1000);
        const seconds = (performance.now() - t0) / 1000;
        servers.forEach((s, i) => perRound.get(s.model)!.get(s.variant)!.push(costs(trees[i], before, seconds)));
        say(`[round ${round + 1}/${ROUNDS}] ${servers.length} servers, ${trees.flat().length} processes, ${seconds.toFixed(1)} s idle; intervals exported to the collector: ${intervalsIn - intervalsBefore}`);
      } finally {
        await Promise.all(servers.map((s) => s.child.stop()));
      }
    }
    for (const model of models) report(model, perRound.get(model)!, figures);
  } finally {
    await children.stopAll();
    await collector.close();
  }
  if (JSON_OUT) process.stdout.write(`${JSON.stringify({ figures } satisfies SuiteJson)}\n`);
}

/** Per variant: ms/s per process, the agent's part over the none variant of the same rounds, and each thread name. */
function report(name: ModelName, perRound: Map<Variant, ProcessCost[][]>, figures: SuiteJson['figures']): void {
  const perProcess = (v: Variant) => perRound.get(v)!.map((procs) => mean(procs.map((p) => p.msPerS)));
  const base = perProcess('none');
  say(`\n${name}: CPU per process, ms/s (median of ${ROUNDS} round(s); each round's variants idle in the same seconds)`);
  for (const v of VARIANTS) {
    const own = perProcess(v);
    const agent = own.map((x, i) => x - base[i]);
    say(`  ${v.padEnd(26)} ${f1(median(own))} ms/s per process${v === 'none' ? '' : `, agent's part ${f1(median(agent))}`}`);
    if (v !== 'none') figures.push({ name: `${name}, ${v}: agent idle CPU per process`, unit: 'ms/s', samples: agent, target: null });
    // Each thread name, per process role, as the mean over the processes of that role.
    for (const role of ['server', 'worker'] as const) {
      const rounds = perRound.get(v)!.map((procs) => procs.filter((p) => p.role === role));
      if (rounds[0].length === 0) continue;
      const names = [...new Set(rounds.flatMap((procs) => procs.flatMap((p) => [...p.threads.keys()])))];
      const cells = names
        .map((n) => ({ n, ms: median(rounds.map((procs) => mean(procs.map((p) => p.threads.get(n) ?? 0)))) }))
        .filter((c) => c.ms >= 0.05)
        .sort((a, b) => b.ms - a.ms);
      const total = median(rounds.map((procs) => mean(procs.map((p) => p.msPerS))));
      say(`    ${role === 'server' ? 'first process' : `each of ${rounds[0].length} workers`}: ${total.toFixed(2)} (${cells.map((c) => `${c.n} ${c.ms.toFixed(2)}`).join(', ')})`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`agent-idle-cost: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
