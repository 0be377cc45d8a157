/**
 * What the srvlens agent costs the server it observes: the event-loop, thread-pool and prefork reference servers, and
 * a plain node:http app that makes outgoing calls, at saturation with no agent, with the srvlens agent (exporting to a
 * real collector), with the agent's exemplar tracing on, and with OpenTelemetry's HTTP tracing, interleaved in one go
 * and reported as ratios to the no-agent run. A measurement, not a test: it exits 0 when a target is missed, and says
 * MISSED.
 *
 *   npm run bench:agent-overhead -- [--model event-loop|thread-pool|prefork|plain-app|all] [--rounds 3] [--seconds 5]
 *                                   [--workload hello|default|http|fetch|all] [--json]
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type autocannon from 'autocannon';
import { treePids } from '../agents/proc/tree-snapshot.js';
import { ChildSet, type ManagedChild } from '../src/scenario/children.js';
import { hostFacts } from '../src/scenario/run/host-facts.js';
import { ENTRY } from '../src/vocabulary/package-paths.js';
import { benchFile } from './child-entries.js';
import { expectations, verifyAgent, verifyExemplars, verifyOtel, verifyPromClient, type PreloadCounts } from './overhead/checks.js';
import { AgentReports } from './overhead/collector.js';
import { CpuBudget } from './overhead/cpu-budget.js';
import { runPairedLoad } from './overhead/paired.js';
import { cpuFigures, waitForQuietMachine } from './proc-cpu.js';
import type { BenchModel } from './overhead/models.js';
import { parseOptions, USAGE, UsageError, type BenchCase, type Options } from './overhead/options.js';
import { formatText, type BenchSettings } from './overhead/report.js';
import { pairingProblems, roundOrder, summariseCase, type Trial, type VariantId } from './overhead/summary.js';
import { variantLaunch } from './overhead/variants.js';
import { answered, Interrupted, runWindowed, type WindowedRun } from './overhead/window.js';
import { isPlainApp, UPSTREAM, UPSTREAM_CONFIG_ENV, WORKLOADS } from './overhead/workloads.js';

const FIXED = {
  backendLatencyMs: 1,
  backendLimit: 1024,
  agentIntervalMs: 1000,
  upstreamDelayMs: UPSTREAM.delayMs,
  upstreamBytes: UPSTREAM.bytes,
};
const READY_TIMEOUT_MS = 15_000;
/**
 * The load before a trial's measured seconds on a server that has served a trial of the case already (its first
 * trial warms it up for the model's warmupSeconds): the connections made again, the caches warm.
 */
const REWARM_SECONDS = 2;

/**
 * A server of the case being run, kept for all of its rounds on the models that do not use node:http: a process
 * start and the model's warm-up (16 s for the thread pool and prefork: the JIT and the agent's start in every
 * isolate) once per case, not once per trial. Those models end every request they begin, sent or not. A node:http
 * server does not end one whose client left before its answer (no 'finish'); the agent takes its slot back 120 s
 * later as dropped, which a kept server would report in a later trial (seen: plain-app fetch, round 3). Those
 * servers warm up in 3 s and start afresh every trial.
 */
interface CaseServer {
  child: ManagedChild;
  port: number;
  pid: number;
  /** With its workers (prefork): a server reports ready once every worker has. */
  pids: number[];
  trials: number;
  /** Kept for the case's rounds; else the trial's own, stopped at its end. */
  kept: boolean;
  /** What its preload (OTel, prom-client) had counted at the end of its last trial. */
  counted: PreloadCounts;
}
/**
 * Before each trial, wait (up to --wait-quiet seconds) until other processes use less than this share of one core:
 * on the project's shared 2-core VMs another engineer's test run halves a trial's req/s.
 */
const QUIET_BELOW_PCT = 15;

class OverheadBench {
  private readonly children = new ChildSet();
  private reports: AgentReports | null = null;
  private backendPort = 0;
  private backendPid = 0;
  private upstreamUrl = '';
  private upstreamPid = 0;
  /** Servers started with --cpu-prof so far: each its own folder. */
  private profiled = 0;
  /** The case's servers by variant (the companion, the server without an agent beside each trial, by 'beside'). */
  private caseServers = new Map<string, CaseServer>();
  private loads: autocannon.Instance[] = [];
  /** Paired trials: the budget of this process (the generator, the collector) and the tiers behind the servers. */
  private loadBudget: CpuBudget | null = null;
  aborted = false;

  constructor(private readonly options: Options) {}

  async start(): Promise<void> {
    this.reports = await AgentReports.start(FIXED.agentIntervalMs);
    // Each tier only where a case needs it: the reference servers call the backend, the plain app its upstream.
    if (this.options.cases.some((c) => isPlainApp(WORKLOADS[c.workload]))) {
      const upstream = this.children.fork('upstream', benchFile('apps/plain-upstream.js'), { env: { [UPSTREAM_CONFIG_ENV]: JSON.stringify(UPSTREAM) } });
      const { port, pid } = await this.ready(upstream);
      this.upstreamUrl = `http://127.0.0.1:${port}/`;
      this.upstreamPid = pid;
    }
    if (this.options.cases.every((c) => isPlainApp(WORKLOADS[c.workload]))) return;
    const backend = this.children.fork('backend', ENTRY.backend, {
      env: {
        SRVLENS_BACKEND_CONFIG: JSON.stringify({
          host: '127.0.0.1',
          port: 0,
          latency: { dist: 'fixed', ms: FIXED.backendLatencyMs },
          limit: FIXED.backendLimit,
          intervalMs: FIXED.agentIntervalMs,
        }),
      },
    });
    ({ port: this.backendPort, pid: this.backendPid } = await this.ready(backend));
  }

  /**
   * Paired trials: this process and the tiers behind the servers go into an uncapped group weighted like the
   * servers', so that neither the generator nor the backend is starved by other work while the servers are capped.
   */
  private budgetLoad(): void {
    if (this.options.pairCores === null) return;
    this.loadBudget = CpuBudget.create('load', null);
    for (const pid of [process.pid, this.backendPid, this.upstreamPid]) if (pid > 0) this.loadBudget.add(pid);
  }

  /** Every trial of every round, in the order run; progress on stderr. */
  async runAll(): Promise<Trial[]> {
    this.budgetLoad();
    const trials: Trial[] = [];
    for (const { model, workload } of this.options.cases) {
      const plain = isPlainApp(WORKLOADS[workload]);
      for (let round = 0; round < this.options.rounds; round++) {
        const order = roundOrder(round, this.options.variants);
        for (let slot = 0; slot < order.length; slot++) {
          const t = await this.trial(model, workload, round, slot, order[slot]);
          trials.push(t);
          const other = t.otherCpuPct === null ? '' : `, other processes ${t.otherCpuPct.toFixed(0)} % of a core`;
          const seen = t.seen === null ? '' : `, ${t.seenWhat}: ${t.seen} of ${t.responses} responses`;
          const down = t.downstreamMsPerRequest === null || !plain ? '' : `, downstream ${t.downstreamMsPerRequest.toFixed(2)} ms/request`;
          const clients = t.otelClientSpans === null || !plain ? '' : `, client spans ${t.otelClientSpans}`;
          const ex = t.exemplars === null ? '' : `, slowest-request exemplars ${t.exemplars.slowest} of ${t.exemplars.expectedSlowest}`;
          process.stderr.write(
            `[${model.id} ${workload} round ${round + 1}/${this.options.rounds}] ${t.variant.padEnd(9)} ` +
              `${Math.round(t.reqPerSec).toLocaleString('en-US').padStart(7)} req/s${other}${seen}${down}${clients}${ex}\n`,
          );
        }
      }
      await this.stopCaseServers();
    }
    return trials;
  }

  /**
   * The case's server of `variant` (`role` ', beside': the companion), started and made ready at its first trial;
   * on a node:http model (see CaseServer), a server of the trial's own, which the trial stops.
   */
  private async caseServer(model: BenchModel, workload: BenchCase['workload'], variant: VariantId, role = ''): Promise<CaseServer> {
    const key = `${variant}${role}`;
    const kept = this.caseServers.get(key);
    if (kept !== undefined) return kept;
    const child = this.forkServer(model, workload, variant, role);
    const { port, pid } = await this.ready(child);
    const server: CaseServer = { child, port, pid, pids: treePids(pid), trials: 0, kept: !model.nodeHttp, counted: { server: 0, client: 0 } };
    if (server.kept) this.caseServers.set(key, server);
    return server;
  }

  private async stopCaseServers(): Promise<void> {
    const servers = [...this.caseServers.values()];
    this.caseServers.clear();
    await Promise.all(servers.map((s) => s.child.stop()));
  }

  /** The server of a trial: a reference server (serve-main) or the plain app, with the variant's preload. */
  private forkServer(model: BenchModel, workload: BenchCase['workload'], variant: VariantId, role = ''): ManagedChild {
    const launch = variantLaunch(variant, model, this.reports!.metricsUrl, FIXED.agentIntervalMs);
    const name = `${model.id} server (${variant}${role})`;
    const { env } = launch;
    const dir = this.options.cpuProfDir;
    const execArgv =
      dir === null
        ? launch.execArgv
        : ['--import', pathToFileURL(benchFile('overhead/exit-on-sigterm.js')).href, ...launch.execArgv, '--cpu-prof', '--cpu-prof-dir', join(dir, `${model.id}-${workload}-${variant}${role.replace(/\W+/g, '-')}-${++this.profiled}`)];
    const w = WORKLOADS[workload];
    if (isPlainApp(w)) {
      const app = { PLAIN_APP_UPSTREAM: this.upstreamUrl, PLAIN_APP_CLIENT: w.client, PLAIN_APP_RESPONSE_BYTES: String(w.response_bytes) };
      return this.children.fork(name, benchFile('apps/plain-app.js'), { execArgv, env: { ...env, ...app } });
    }
    const config = {
      model: model.id,
      size: model.size,
      host: '127.0.0.1',
      port: 0,
      workload: w,
      backend: { host: '127.0.0.1', port: this.backendPort },
    };
    return this.children.fork(name, ENTRY.serve, { execArgv, env: { ...env, SRVLENS_SERVE_CONFIG: JSON.stringify(config) } });
  }

  private async trial(model: BenchModel, workload: BenchCase['workload'], round: number, slot: number, variant: VariantId): Promise<Trial> {
    this.checkAborted();
    if (this.options.waitQuiet > 0) await this.waitQuiet();
    const cores = this.options.pairCores;
    const server = await this.caseServer(model, workload, variant);
    // Paired: a server without an agent runs beside it, under the same CPU budget, in the same seconds.
    const companion = cores === null ? null : await this.caseServer(model, workload, 'none', ', beside');
    // The trial's downstream tier first: cpuFigures reports its busy %; the other, idle, is still ours, not "other",
    // as are the case's other servers, idle while this trial runs.
    const tiers = (isPlainApp(WORKLOADS[workload]) ? [this.upstreamPid, this.backendPid] : [this.backendPid, this.upstreamPid]).filter((p) => p > 0);
    const idle = [...this.caseServers.values()].filter((s) => s !== server && s !== companion).flatMap((s) => s.pids);
    const helpers = [...tiers, ...idle];
    // The model's whole warm-up at a server's first trial (the companion's is the case's first), a short one after.
    const first = server.trials === 0 || companion?.trials === 0;
    const pids = server.pids;
    const url = `http://127.0.0.1:${server.port}/`;
    const run = { url, connections: model.connections, warmupSeconds: first ? model.warmupSeconds : REWARM_SECONDS, seconds: this.options.seconds, pids, helpers };
    const { measured, pairing } = companion === null || cores === null ? { measured: await this.runWindowed(run), pairing: null } : await this.runPaired(run, companion, cores, round);
    server.trials++;
    if (companion !== null) companion.trials++;
    const { result, window } = measured;
    const trial: Trial = {
      model: model.id,
      workload,
      round,
      slot,
      variant,
      reqPerSec: window.ok / window.seconds,
      ...cpuFigures(window.before, window.after, window.seconds, window.answered),
      responses: answered(result),
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      seen: null,
      seenWhat: null,
      downstreamMsPerRequest: null,
      otelClientSpans: null,
      exemplars: null,
      pairing,
      problems: [],
    };
    if (pairing !== null) trial.problems.push(...pairingProblems(pairing));
    const checkAborted = () => this.checkAborted();
    if (variant === 'srvlens' || variant === 'exemplars') await verifyAgent(trial, pids, this.reports!, FIXED.agentIntervalMs, checkAborted);
    if (variant === 'exemplars') await verifyExemplars(trial, pids, this.reports!, FIXED.agentIntervalMs, checkAborted);
    if (model.preloadUnreachable === null) {
      if (variant === 'otel') await verifyOtel(trial, server.child, server.counted);
      if (variant === 'prom-client') await verifyPromClient(trial, server.child, server.counted);
    }
    // The next trial of this server counts from here.
    for (const p of pids) this.reports!.forget(p);
    await Promise.all([server, companion].flatMap((s) => (s !== null && !s.kept ? [s.child.stop()] : [])));
    return trial;
  }

  /** A paired trial's load (overhead/paired.ts): `run`'s server beside `companion`, a server without an agent. */
  private async runPaired(run: WindowedRun, companion: CaseServer, cores: number, round: number) {
    const beside = { ...run, url: `http://127.0.0.1:${companion.port}/`, pids: companion.pids };
    const { measured, pairing } = await runPairedLoad({ measured: run, beside }, cores, round, (r) => this.runWindowed(r));
    return { measured, pairing };
  }

  /** Our processes idle here (no server yet, no load), so what the machine is busy with is someone else's. */
  private async waitQuiet(): Promise<void> {
    const first = await waitForQuietMachine(QUIET_BELOW_PCT, 0);
    if (first === null || first < QUIET_BELOW_PCT) return;
    process.stderr.write(
      `  other processes use ${first.toFixed(0)} % of a core: waiting up to ${this.options.waitQuiet} s for under ${QUIET_BELOW_PCT} %\n`,
    );
    const last = await waitForQuietMachine(QUIET_BELOW_PCT, this.options.waitQuiet * 1000, () => this.aborted);
    this.checkAborted();
    if (last !== null && last >= QUIET_BELOW_PCT) process.stderr.write(`  still ${last.toFixed(0)} %: measuring anyway\n`);
  }

  private async ready(child: ManagedChild): Promise<{ port: number; pid: number }> {
    const m = await child.waitFor('ready', READY_TIMEOUT_MS);
    return { port: Number(m.port), pid: Number(m.pid) };
  }

  /** The trial's load and its measured window (overhead/window.ts), stoppable by abort() while it runs. */
  private async runWindowed(run: WindowedRun) {
    this.checkAborted();
    const { load, done } = runWindowed(run, () => this.aborted);
    this.loads.push(load);
    try {
      return await done;
    } finally {
      this.loads = this.loads.filter((l) => l !== load);
    }
  }

  private checkAborted(): void {
    if (this.aborted) throw new Interrupted();
  }

  /** Ctrl-C: end the load and the children now; the run's promise then rejects with Interrupted. */
  abort(): void {
    this.aborted = true;
    for (const l of this.loads) l.stop();
    void this.children.stopAll();
  }

  async stop(): Promise<void> {
    for (const l of this.loads) l.stop();
    await this.children.stopAll();
    this.loadBudget?.remove();
    await this.reports?.close();
  }

  killNow(): void {
    this.children.killAllNow();
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const bench = new OverheadBench(options);
  process.on('exit', () => bench.killNow());
  const onSignal = (): void => {
    if (bench.aborted) {
      bench.killNow();
      process.exit(130);
    }
    process.stderr.write('\ninterrupted: stopping the load and the server processes\n');
    bench.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const began = Date.now();
  try {
    const host = await hostFacts();
    await bench.start();
    const trials = await bench.runAll();
    const settings: BenchSettings = {
      rounds: options.rounds,
      seconds: options.seconds,
      variants: options.variants,
      ...FIXED,
      waitQuietSeconds: options.waitQuiet,
      quietBelowPct: QUIET_BELOW_PCT,
      pairCores: options.pairCores,
      pairUnavailable: options.pairUnavailable,
    };
    const cases = options.cases.map(({ model, workload }) => ({
      model,
      workload,
      params: WORKLOADS[workload],
      summary: summariseCase(model.id, workload, expectations(model, workload), trials),
    }));
    if (options.json) {
      const json = {
        machine: host,
        settings,
        cases: cases.map((c) => ({ ...c.summary, server: c.model, params: c.params })),
        trials,
      };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    } else {
      process.stdout.write(formatText(host, settings, cases));
      process.stdout.write(`\ntook ${Math.round((Date.now() - began) / 1000)} s\n`);
    }
    return 0;
  } catch (err) {
    if (bench.aborted) return 130;
    throw err;
  } finally {
    await bench.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`agent-overhead: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`agent-overhead: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
