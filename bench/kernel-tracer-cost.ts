/**
 * What the kernel tracer (agents/kernel/) costs the server it watches: nginx (2 epoll workers, `return 200`) and the
 * reference thread pool (8 threads, default workload, no agent) at saturation under autocannon, without the tracer
 * and with each of its backends (the libbpf tracer, srvlens's default, and bpftrace, its fallback), in rounds whose
 * order rotates. Paired trials (bench/overhead/paired.ts, as agent-overhead's): two twins of the server run side by
 * side, each in a cpu cgroup capped for the measured seconds, loaded in the same seconds; the tracer traces one of
 * them, and the figure is its throughput over its untraced twin's (plain beside plain: the pairs' noise). Both twins
 * pay what the tracer's tracepoints cost every process on the host (the syscalls' traced path, its programs' early
 * exits), so the pair misses it: it is measured apart (kernel-tracer/syscall-toll.ts) and taken off the pair's
 * ratio. Target: at least 0.95 of the plain throughput for the backend srvlens runs by default. Beside it, the host's context switches per second during each trial (the
 * sched tracepoints run at every switch and wake-up), and the requests the tracer counted against autocannon's.
 * A measurement, not a test: it exits 0 and prints MISSED where the target is missed. Root, nginx and a backend needed.
 *
 *   npm run build && node dist/bench/kernel-tracer-cost.js [--rounds 3] [--seconds 5] [--only nginx] [--backends libbpf,bpftrace]
 *     [--pair CORES|off] [--toll-alternations 3] [--probe-stats] [--program rewrite.mjs] [--json]
 *
 * --pair: each twin's cap (by default the target's own, bench/kernel-tracer/targets.ts); off: one server, traced
 * and plain trials back to back, uncapped, the toll on the untraced then inside the ratio; --toll-alternations: plain /
 * attached runs of the toll's microbench per backend (the suite's quick run: 1); --probe-stats prints, after each
 * traced trial, what each of the tracer's programs cost by the kernel's own account (bpf-prog-stats.ts; it costs a
 * little itself); --program takes a module whose default export rewrites the bpftrace program (text to text), run in
 * the tracer's place: an ablation, throughput only, nothing counted.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KernelTracerUnavailable, kernelTracerAvailability, startKernelTracer, type KernelTracer, type TracerBackend } from '../agents/kernel/kernel-tracer.js';
import { treePids } from '../agents/proc/tree-snapshot.js';
import { enableBpfStats, probeCosts, probeCostTable } from './bpf-prog-stats.js';
import { buildSyscallCost, countSyscalls, measureTolls, TOLL_ALTERNATIONS, tollNsPerRequest, type SyscallCensus, type SyscallToll } from './kernel-tracer/syscall-toll.js';
import { freePort, nginxTarget, threadPoolTarget, waitListening, type Target } from './kernel-tracer/targets.js';
import { CpuBudget, cpuBudgetUnavailable } from './overhead/cpu-budget.js';
import { runPairedLoad } from './overhead/paired.js';
import { baselineFor, median, MIN_SEEN_SHARE, pairedRatios, pairingProblems, type Pairing } from './overhead/summary.js';
import { answered, runWindowed, type WindowedRun } from './overhead/window.js';
import { cpuFigures } from './proc-cpu.js';
import { benchArgs } from './cli.js';

const TARGET = 0.95;
/** The load of the syscall census: long enough for ~10^5 requests on nginx, a few thousand on the pool. */
const CENSUS_SECONDS = 2;

type Variant = 'none' | TracerBackend;

interface Trial {
  server: string;
  round: number;
  /** 'none': no tracer (plain beside plain when paired). */
  variant: Variant;
  reqPerSec: number;
  cpuUsPerRequest: number | null;
  switchesPerS: number;
  /** Requests the tracer counted, and autocannon's answered ones over the same trial (whole run, warm-up included). */
  tracedRequests: number | null;
  answered: number;
  pairing: Pairing | null;
  problems: string[];
}

type Rewrite = (program: string) => string;

const switches = () => Number(/\nctxt (\d+)/.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
const load = (run: WindowedRun) => runWindowed(run, () => false).done;

interface Twins {
  target: Target;
  servers: { child: ChildProcess; port: number }[];
}

/** Servers running, killed however this process ends: they are detached (nginx's workers are in their group). */
const running = new Set<Twins>();
process.on('exit', () => {
  for (const twins of running) stopTwins(twins);
});

async function startTwins(t: Target, n: number): Promise<Twins> {
  const servers: Twins['servers'] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    servers.push({ child: t.start(port), port });
  }
  const twins = { target: t, servers };
  running.add(twins);
  try {
    for (const s of servers) await waitListening(s.port);
  } catch (err) {
    stopTwins(twins);
    throw err;
  }
  return twins;
}

function stopTwins(twins: Twins): void {
  running.delete(twins);
  for (const s of twins.servers) {
    try {
      process.kill(-s.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const runOf = (t: Target, port: number, pids: number[], seconds: number, warmupSeconds = 1): WindowedRun => ({
  url: `http://127.0.0.1:${port}/`,
  connections: t.connections,
  warmupSeconds,
  seconds,
  pids,
  helpers: [],
});

interface TrialSettings {
  seconds: number;
  /** Each twin's cap; null: one server alone, uncapped. */
  cores: number | null;
  probeStats: boolean;
  rewrite?: Rewrite;
}

/** Trial `k` of the run: server k%2 traced (or not), beside the other; the loads' start order alternating every two. */
async function trial(twins: Twins, k: number, round: number, variant: Variant, s: TrialSettings): Promise<Trial> {
  const t = twins.target;
  const paired = s.cores !== null;
  const [mine, theirs] = paired ? [twins.servers[k % 2], twins.servers[1 - (k % 2)]] : [twins.servers[0], null];
  const tracer: KernelTracer | null = variant === 'none' ? null : await startKernelTracer({ pid: mine.child.pid!, intervalMs: 1000, backend: variant, rewriteProgram: s.rewrite });
  try {
    const tracedFrom = performance.now();
    // The tracer's own process is charged to the server it traces: its CPU is part of what tracing costs.
    const run = runOf(t, mine.port, [...treePids(mine.child.pid!), ...(tracer ? [tracer.pid] : [])], s.seconds);
    const s0 = switches();
    const t0 = performance.now();
    const { measured, pairing } =
      theirs === null || s.cores === null
        ? { measured: await load(run), pairing: null }
        : await runPairedLoad({ measured: run, beside: runOf(t, theirs.port, treePids(theirs.child.pid!), s.seconds) }, s.cores, Math.floor(k / 2), load);
    const switchesPerS = (switches() - s0) / ((performance.now() - t0) / 1000);
    const { result, window } = measured;
    if (tracer && s.probeStats) {
      const costs = probeCosts(process.pid);
      process.stderr.write(`  BPF programs of ${variant} over the whole trial (warm-up included):\n${probeCostTable(costs, (performance.now() - tracedFrom) / 1000, answered(result))}\n`);
    }
    const counted = tracer ? (await tracer.stop()).responses : null;
    const problems = pairing === null ? [] : pairingProblems(pairing);
    const errors = result.errors + result.timeouts + result.non2xx;
    if (errors > 0) problems.push(`${errors} errors or non-2xx responses`);
    if (tracer && s.rewrite === undefined && (counted ?? 0) < MIN_SEEN_SHARE * answered(result)) {
      problems.push(`the tracer counted ${counted} of ${answered(result)} responses (under ${MIN_SEEN_SHARE * 100} %): it did not trace what it is held to cost`);
    }
    return {
      server: t.name,
      round,
      variant,
      reqPerSec: window.ok / window.seconds,
      cpuUsPerRequest: cpuFigures(window.before, window.after, window.seconds, window.answered).cpuUsPerRequest,
      switchesPerS,
      tracedRequests: counted,
      answered: answered(result),
      pairing,
      problems,
    };
  } finally {
    if (tracer) await tracer.stop();
  }
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

/** What the pair missed, per backend: ns a syscall, or why it was not measured. */
type Tolls = Partial<Record<TracerBackend, SyscallToll>>;

async function tollsOf(pid: number, backends: TracerBackend[], rewrite: Rewrite | undefined, alternations: number): Promise<{ tolls: Tolls; unavailable: string | null }> {
  const built = buildSyscallCost();
  if ('unavailable' in built) return { tolls: {}, unavailable: built.unavailable };
  const attach = Object.fromEntries(backends.map((backend) => [backend, () => startKernelTracer({ pid, intervalMs: 1000, backend, rewriteProgram: rewrite })]));
  const tolls: Tolls = await measureTolls(built.file, attach, alternations);
  for (const backend of backends) {
    const x = tolls[backend]!;
    process.stderr.write(
      `toll of ${backend} on the untraced: write ${x.plain.write.toFixed(0)} -> ${x.attached.write.toFixed(0)} ns, getppid ${x.plain.getppid.toFixed(0)} -> ${x.attached.getppid.toFixed(0)} ns, a TCP exchange ${x.plain.exchange.toFixed(0)} -> ${x.attached.exchange.toFixed(0)} ns of CPU\n`,
    );
  }
  return { tolls, unavailable: null };
}

interface BackendResult {
  server: string;
  backend: TracerBackend;
  default: boolean;
  connections: number;
  cores: number | null;
  plain_rps: number;
  traced_rps: number;
  /** Per trial, traced / its baseline (the twin beside it, or the round's plain trial when unpaired). */
  pair_ratios: number[];
  /** Per trial, the toll on the untraced the pair missed, % of the twin's CPU per request; empty unpaired or unmeasured. */
  toll_pcts: number[];
  /** The figure held to the target, per trial: pair ratio x (1 - toll); the pair ratio alone where the toll is unmeasured. */
  ratios: number[];
  ratio: number;
  toll_ns_per_request: number | null;
  /**
   * The untraced twin's req/s beside this backend over its req/s beside plain (both twins' mean), medians over the
   * run: what tracing the other costs the twin (the toll on the untraced, measured whole), which
   * the pair misses with the toll. Back to back across trials, so as noisy as the unpaired ratio was; null unpaired.
   */
  twin_drift: number | null;
  switches_per_s: number;
  target: number;
  met: boolean;
  problems: string[];
}

function summarise(server: string, t: Target, trials: Trial[], backends: TracerBackend[], srvlensDefault: TracerBackend, cores: number | null, tolls: Tolls, census: SyscallCensus | null) {
  const results: BackendResult[] = backends.map((backend) => {
    const traced = trials.filter((x) => x.variant === backend);
    const pairRatios = pairedRatios(trials, backend, 'reqPerSec');
    const toll = tolls[backend];
    const tollNs = cores !== null && toll !== undefined && census !== null ? tollNsPerRequest(toll, census) : null;
    const tollPcts =
      tollNs === null
        ? []
        : traced.flatMap((x) => {
            const cpu = baselineFor(x, trials, 'cpuUsPerRequest');
            return cpu === null || cpu <= 0 ? [] : [(tollNs / 1000 / cpu) * 100];
          });
    const ratios = tollPcts.length === pairRatios.length ? pairRatios.map((r, i) => r * (1 - tollPcts[i] / 100)) : pairRatios;
    const ratio = median(ratios);
    const problems = traced.flatMap((x) => x.problems.map((p) => `round ${x.round + 1}: ${p}`));
    return {
      server,
      backend,
      default: backend === srvlensDefault,
      connections: t.connections,
      cores,
      plain_rps: median(trials.filter((x) => x.variant === 'none').map((x) => x.reqPerSec)),
      traced_rps: median(traced.map((x) => x.reqPerSec)),
      pair_ratios: pairRatios,
      toll_pcts: tollPcts,
      ratios,
      ratio,
      toll_ns_per_request: tollNs,
      twin_drift: cores === null ? null : median(traced.map((x) => x.pairing!.besideReqPerSec)) / median(trials.filter((x) => x.variant === 'none').map((x) => (x.reqPerSec + x.pairing!.besideReqPerSec) / 2)),
      switches_per_s: median(traced.map((x) => x.switchesPerS)),
      target: TARGET,
      met: ratio >= TARGET && problems.length === 0,
      problems,
    };
  });
  const plain = trials.filter((x) => x.variant === 'none');
  const noise = { server, ratios: cores === null ? [] : pairedRatios(trials, 'none', 'reqPerSec'), problems: plain.flatMap((x) => x.problems.map((p) => `round ${x.round + 1}: ${p}`)) };
  return { results, noise };
}

const USAGE =
  'usage: node dist/bench/kernel-tracer-cost.js [--only nginx|thread-pool] [--rounds N] [--seconds S] [--backends libbpf,bpftrace] ' +
  '[--pair CORES|off] [--toll-alternations N] [--probe-stats] [--program REWRITE.mjs] [--json]';

async function main(): Promise<void> {
  const values = benchArgs('kernel-tracer-cost', USAGE, {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    'probe-stats': { type: 'boolean', default: false },
    program: { type: 'string' },
    backends: { type: 'string' },
    pair: { type: 'string' },
    'toll-alternations': { type: 'string', default: String(TOLL_ALTERNATIONS) },
  });
  const tollAlternations = Number(values['toll-alternations']);
  if (!(Number.isInteger(tollAlternations) && tollAlternations >= 1)) throw new Error(`--toll-alternations must be a whole number >= 1, got '${values['toll-alternations']}'`);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const probeStats = values['probe-stats'];
  const rewrite = values.program === undefined ? undefined : ((await import(resolve(values.program))) as { default: Rewrite }).default;
  const backends = values.program !== undefined ? (['bpftrace'] as TracerBackend[]) : chooseBackends(values.backends);
  const pairAsked = values.pair === undefined ? null : values.pair === 'off' ? 'off' : Number(values.pair);
  if (typeof pairAsked === 'number' && !(pairAsked > 0 && pairAsked <= 1)) throw new Error(`--pair must be a share of one core in (0, 1] or off, got '${values.pair}'`);
  const pairUnavailable = pairAsked === 'off' ? null : cpuBudgetUnavailable();
  if (pairUnavailable !== null) process.stderr.write(`pairs: not run (${pairUnavailable}): trials one after another, uncapped\n`);
  // What srvlens runs here when not told: the figure held to the target.
  const srvlensDefault = kernelTracerAvailability().backend;
  const statsOff = probeStats ? enableBpfStats() : () => undefined;
  // This process is the load: uncapped, weighted like the servers, so other work does not starve the generator.
  const loadBudget = pairAsked === 'off' || pairUnavailable !== null ? null : CpuBudget.create('load', null);
  loadBudget?.add(process.pid);
  const results: BackendResult[] = [];
  const noise: ReturnType<typeof summarise>['noise'][] = [];
  const allTrials: Trial[] = [];
  const censuses: { server: string; per_request: SyscallCensus | null; generator_per_request: SyscallCensus | null }[] = [];
  let tolls: Tolls | null = null;
  let tollUnavailable: string | null = null;
  try {
    for (const t of [nginxTarget(), threadPoolTarget].filter((x) => values.only === undefined || x.name.includes(values.only))) {
      const cores = pairAsked === 'off' || pairUnavailable !== null ? null : (pairAsked ?? t.pairCores);
      const twins = await startTwins(t, cores === null ? 1 : 2);
      try {
        process.stderr.write(`${t.name}: warming up ${t.warmupSeconds} s${cores === null ? '' : ', both twins'}\n`);
        await Promise.all(twins.servers.map((s) => load(runOf(t, s.port, [s.child.pid!], t.warmupSeconds, 0))));
        let census: SyscallCensus | null = null;
        if (cores !== null) {
          // Measured once per run (what a syscall costs does not depend on the server), on the first server's tree.
          if (tolls === null) ({ tolls, unavailable: tollUnavailable } = await tollsOf(twins.servers[0].child.pid!, backends, rewrite, tollAlternations));
          const s = twins.servers[0];
          const pids = treePids(s.child.pid!);
          const counted = await countSyscalls(() => load(runOf(t, s.port, pids, CENSUS_SECONDS, 0)), [pids, [process.pid]]).catch((err: Error) => {
            tollUnavailable ??= `no syscall census: ${err.message}`;
            return null;
          });
          if (counted !== null) {
            const n = answered(counted.value.result);
            const [server, generator] = counted.census.map((c) => ({ all: c.all / n, writes: c.writes / n }));
            census = server;
            censuses.push({ server: t.name, per_request: server, generator_per_request: generator });
            process.stderr.write(`${t.name}: ${server.all.toFixed(2)} syscalls a request (${server.writes.toFixed(2)} writes), the generator ${generator.all.toFixed(2)}\n`);
          }
        }
        const trials: Trial[] = [];
        const slots: Variant[] = ['none', ...backends];
        let k = 0;
        for (let r = 0; r < rounds; r++) {
          // The order rotates (plain first, then second...), so that a drift of the VM falls on each alike.
          for (const variant of slots.map((_, i) => slots[(i + r) % slots.length])) {
            const x = await trial(twins, k++, r, variant, { seconds, cores, probeStats, rewrite });
            const beside = x.pairing === null ? '' : ` beside ${x.pairing.besideReqPerSec.toFixed(0)} (ratio ${(x.reqPerSec / x.pairing.besideReqPerSec).toFixed(3)}, saturated ${x.pairing.saturatedPct.toFixed(0)} / ${x.pairing.besideSaturatedPct.toFixed(0)} %)`;
            process.stderr.write(
              `${t.name} round ${r + 1} ${variant.padEnd(8)}: ${x.reqPerSec.toFixed(0)} req/s${beside}, ${x.switchesPerS.toFixed(0)} switches/s${x.tracedRequests === null ? '' : `, tracer counted ${x.tracedRequests} of ${x.answered}`}${x.problems.map((p) => `; FAILED: ${p}`).join('')}\n`,
            );
            trials.push(x);
          }
        }
        allTrials.push(...trials);
        const s = summarise(t.name, t, trials, backends, srvlensDefault, cores, tolls ?? {}, census);
        results.push(...s.results);
        noise.push(s.noise);
      } finally {
        stopTwins(twins);
      }
    }
  } finally {
    loadBudget?.remove();
    statsOff();
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), rounds, seconds, tolls, toll_unavailable: tollUnavailable, censuses, noise, results, trials: allTrials }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`kernel tracer cost: throughput traced / plain, median of ${rounds} rounds of ${seconds} s, target >= ${TARGET} for srvlens's default (*)\n`);
  if (tollUnavailable !== null) process.stdout.write(`  toll on the untraced not measured: ${tollUnavailable}\n`);
  for (const r of results) {
    const pair = r.cores === null ? 'back to back' : `pair ${median(r.pair_ratios).toFixed(3)} at ${r.cores} core`;
    const toll =
      (r.toll_pcts.length === 0 ? '' : `, toll on the untraced ${median(r.toll_pcts).toFixed(2)} % (${r.toll_ns_per_request!.toFixed(0)} ns a request)`) +
      (r.twin_drift === null ? '' : `, twin beside it / beside plain ${r.twin_drift.toFixed(3)}`);
    process.stdout.write(
      `  ${r.server.padEnd(24)} ${(r.default ? `${r.backend}*` : r.backend).padEnd(9)} ${r.plain_rps.toFixed(0).padStart(6)} -> ${r.traced_rps.toFixed(0).padStart(6)} req/s  ratio ${r.ratio.toFixed(3)} (rounds ${r.ratios.map((x) => x.toFixed(3)).join(', ')}; ${pair}${toll})  ${r.switches_per_s.toFixed(0)} switches/s  ${r.default ? (r.met ? 'met' : 'MISSED') : ''}\n`,
    );
    for (const p of r.problems) process.stdout.write(`    FAILED ${p}\n`);
  }
  for (const n of noise) {
    if (n.ratios.length > 0) process.stdout.write(`  ${n.server.padEnd(24)} plain beside plain: ${median(n.ratios).toFixed(3)} (rounds ${n.ratios.map((x) => x.toFixed(3)).join(', ')}): the pairs' noise\n`);
    for (const p of n.problems) process.stdout.write(`    FAILED plain ${p}\n`);
  }
}

await main();
