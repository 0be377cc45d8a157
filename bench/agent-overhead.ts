/**
 * What the srvlens agent costs the server it observes: the event-loop and thread-pool reference servers, and a plain
 * node:http app that makes outgoing calls, at saturation with no agent, with the srvlens agent (exporting to a real
 * collector), with the agent's exemplar tracing on, and with OpenTelemetry's HTTP tracing, interleaved in one go and
 * reported as ratios to the no-agent run. A measurement, not a test: it exits 0 when a target is missed, and says
 * MISSED.
 *
 *   npm run bench:agent-overhead -- [--model event-loop|thread-pool|plain-app|all] [--rounds 3] [--seconds 5]
 *                                   [--workload hello|default|http|fetch|all] [--json]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import type { AgentInterval } from '../src/collect/otlp-json.js';
import { startCollector, type Collector } from '../src/collect/receiver.js';
import { intervalIndex, monoMs } from '../src/vocabulary/index.js';
import { ChildSet, type ManagedChild } from '../src/scenario/run/children.js';
import { hostFacts } from '../src/scenario/run/host-facts.js';
import { ENTRY } from '../src/vocabulary/package-paths.js';
import { EX_SLOWEST } from '../agents/node/thread-ring.js';
import { OTEL_SPANS_QUERY, type OtelSpanReport } from './otel-ipc.js';
import { cpuFigures, cpuSnapshot, waitForQuietMachine, type CpuSnapshot } from './proc-cpu.js';
import type { BenchModel } from './overhead-models.js';
import { parseOptions, USAGE, UsageError, type BenchCase, type Options } from './overhead-options.js';
import { formatText, type BenchSettings } from './overhead-report.js';
import { roundOrder, summariseCase, type CaseExpectations, type Trial, type VariantId } from './overhead-summary.js';
import { isPlainApp, UPSTREAM, UPSTREAM_CONFIG_ENV, WORKLOADS } from './overhead-workloads.js';

const FIXED = {
  backendLatencyMs: 1,
  backendLimit: 1024,
  agentIntervalMs: 1000,
  upstreamDelayMs: UPSTREAM.delayMs,
  upstreamBytes: UPSTREAM.bytes,
};
/** This bench's own child entries (the plain app, its upstream, the OTel preload), compiled beside it. */
const benchFile = (name: string): string => join(dirname(fileURLToPath(import.meta.url)), name);
/**
 * The plain app's check: the agent must time at least this share of the upstream's delay as each request's
 * downstream. The call takes the delay and more (loopback, parsing, the loop's turns), so a working agent reports
 * over 1x; an agent whose call timing did not run reports 0.
 */
const MIN_DOWNSTREAM_SHARE = 0.5;
const READY_TIMEOUT_MS = 15_000;
/**
 * Before each trial, wait (up to --wait-quiet seconds) until other processes use less than this share of one core:
 * on the project's shared 2-core VMs another engineer's test run halves a trial's req/s.
 */
const QUIET_BELOW_PCT = 15;
/** The agent exports each interval a few ms after its boundary; wait for the one the load ended in, this long. */
const LAST_INTERVAL_TIMEOUT_MS = FIXED.agentIntervalMs * 3;
/**
 * Exemplar spans leave through a BatchSpanProcessor that exports every interval (exemplar-spans.ts), so those of
 * the last interval arrive up to an interval after its metrics: wait for them this long beyond that.
 */
const EXEMPLAR_TIMEOUT_MS = FIXED.agentIntervalMs * 3;
const OTEL_QUERY_TIMEOUT_MS = 10_000;

class Interrupted extends Error {}

/** The measured seconds of a trial's run: the server's CPU at their edges, and the responses between. */
interface MeasuredWindow {
  before: CpuSnapshot;
  after: CpuSnapshot;
  seconds: number;
  /** 2xx responses, and all answered (2xx and other statuses). */
  ok: number;
  answered: number;
}

/** Load goes on this long after the measured window closes, so that the window never sees the load wind down. */
const WINDOW_TAIL_SECONDS = 0.5;

const answered = (r: autocannon.Result): number => r['2xx'] + r.non2xx;

class OverheadBench {
  private readonly children = new ChildSet();
  private readonly intervalsByPid = new Map<number, AgentInterval[]>();
  /** Exemplar spans that reached the collector, by the pid in their resource, and by kind. */
  private readonly exemplarsByPid = new Map<number, { slowest: number; sampled: number }>();
  private collector: Collector | null = null;
  private backendPort = 0;
  private backendPid = 0;
  private upstreamUrl = '';
  private upstreamPid = 0;
  private load: autocannon.Instance | null = null;
  aborted = false;

  constructor(private readonly options: Options) {}

  async start(): Promise<void> {
    this.collector = await startCollector({
      intervalMs: FIXED.agentIntervalMs,
      onAgentIntervals: (intervals) => {
        for (const i of intervals) {
          // Exemplar spans come in through /v1/traces as intervals of their own that carry no request counts.
          if (i.exemplars !== undefined) {
            const n = this.exemplarsByPid.get(i.pid) ?? { slowest: 0, sampled: 0 };
            for (const e of i.exemplars) n[e.kind === 'slowest' ? 'slowest' : 'sampled']++;
            this.exemplarsByPid.set(i.pid, n);
            continue;
          }
          const list = this.intervalsByPid.get(i.pid) ?? [];
          list.push(i);
          this.intervalsByPid.set(i.pid, list);
        }
      },
    });
    // Each tier only where a case needs it: the reference servers call the backend, the plain app its upstream.
    if (this.options.cases.some((c) => isPlainApp(WORKLOADS[c.workload]))) {
      const upstream = this.children.fork('upstream', benchFile('plain-upstream.js'), { env: { [UPSTREAM_CONFIG_ENV]: JSON.stringify(UPSTREAM) } });
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

  /** Every trial of every round, in the order run; progress on stderr. */
  async runAll(): Promise<Trial[]> {
    const trials: Trial[] = [];
    for (const { model, workload } of this.options.cases) {
      const plain = isPlainApp(WORKLOADS[workload]);
      for (let round = 0; round < this.options.rounds; round++) {
        const order = roundOrder(round);
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
    }
    return trials;
  }

  private variant(variant: VariantId, model: BenchModel): { execArgv: string[]; env: Record<string, string> } {
    const agent = {
      // The agent derives its traces endpoint (exemplar spans) from this one: /v1/metrics -> /v1/traces.
      SRVLENS_COLLECTOR_URL: this.collector!.metricsUrl,
      SRVLENS_INTERVAL_MS: String(FIXED.agentIntervalMs),
      SRVLENS_MODEL: model.agentModel,
      SRVLENS_SERVER_NAME: 'agent-overhead-bench',
    };
    switch (variant) {
      case 'none':
        return { execArgv: [], env: {} };
      case 'srvlens':
        return { execArgv: ['--import', ENTRY.agent], env: agent };
      case 'exemplars':
        return { execArgv: ['--import', ENTRY.agent], env: { ...agent, SRVLENS_EXEMPLARS: '1' } };
      case 'otel': {
        const preload = pathToFileURL(benchFile('otel-http-preload.js')).href;
        // The SDK's defaults would otherwise export metrics and logs to localhost:4318 and retry on shutdown.
        return { execArgv: ['--import', preload], env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' } };
      }
    }
  }

  /** The server of a trial: a reference server (serve-main) or the plain app, with the variant's preload. */
  private forkServer(model: BenchModel, workload: BenchCase['workload'], variant: VariantId): ManagedChild {
    const { execArgv, env } = this.variant(variant, model);
    const name = `${model.id} server (${variant})`;
    const w = WORKLOADS[workload];
    if (isPlainApp(w)) {
      const app = { PLAIN_APP_UPSTREAM: this.upstreamUrl, PLAIN_APP_CLIENT: w.client, PLAIN_APP_RESPONSE_BYTES: String(w.response_bytes) };
      return this.children.fork(name, benchFile('plain-app.js'), { execArgv, env: { ...env, ...app } });
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
    const server = this.forkServer(model, workload, variant);
    // The trial's downstream tier first: cpuFigures reports its busy %; the other, idle, is still ours, not "other".
    const helpers = (isPlainApp(WORKLOADS[workload]) ? [this.upstreamPid, this.backendPid] : [this.backendPid, this.upstreamPid]).filter((p) => p > 0);
    try {
      const { port, pid } = await this.ready(server);
      const url = `http://127.0.0.1:${port}/`;
      const { result, window } = await this.runWindowed(url, model.connections, model.warmupSeconds, this.options.seconds, pid, helpers);
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
        problems: [],
      };
      if (variant === 'srvlens' || variant === 'exemplars') await this.verifyAgent(trial, pid);
      if (variant === 'exemplars') await this.verifyExemplars(trial, pid);
      if (variant === 'otel') await this.verifyOtel(trial, server);
      this.intervalsByPid.delete(pid);
      this.exemplarsByPid.delete(pid);
      return trial;
    } finally {
      await server.stop();
    }
  }

  /** The agent's exported request counts for this server, once the interval the load ended in has arrived. */
  private async verifyAgent(trial: Trial, pid: number): Promise<void> {
    const last = intervalIndex(monoMs(), FIXED.agentIntervalMs);
    const deadline = Date.now() + LAST_INTERVAL_TIMEOUT_MS;
    const intervals = () => this.intervalsByPid.get(pid) ?? [];
    while (!intervals().some((i) => i.index >= last) && Date.now() < deadline) {
      this.checkAborted();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const list = intervals();
    trial.seenWhat = 'agent-counted requests';
    // With per-thread data the agent's threads each carry their own requests; without, the process context does.
    trial.seen = list.reduce((n, i) => n + i.contexts.reduce((m, c) => m + c.requests, 0), 0);
    const downstreamMs = list.reduce((n, i) => n + i.contexts.reduce((m, c) => m + c.stage_ms.downstream, 0), 0);
    trial.downstreamMsPerRequest = trial.seen > 0 ? downstreamMs / trial.seen : null;
    if (list.length === 0) trial.problems.push(`the agent (pid ${pid}) exported no interval to the collector`);
    const errors = list.reduce((n, i) => n + i.agent_errors, 0);
    const dropped = list.reduce((n, i) => n + i.dropped, 0);
    if (errors > 0) trial.problems.push(`the agent counted ${errors} errors in its callbacks`);
    if (dropped > 0) trial.problems.push(`the agent dropped ${dropped} requests or intervals`);
    if (this.collector!.rejected.length > 0) trial.problems.push(`the collector rejected exports: ${this.collector!.rejected[0].reason}`);
  }

  /**
   * Exemplar spans of this server at the collector, against what the agent's intervals say it kept. Per thread and
   * interval it keeps the EX_SLOWEST slowest requests (all of them when fewer), which is exact, and a random sample,
   * which may leave a slot empty (about 2/n in an interval of n requests), so only the slowest are checked. Waits for
   * the last interval's spans, which trail its metrics by up to an interval.
   */
  private async verifyExemplars(trial: Trial, pid: number): Promise<void> {
    const expectedSlowest = (this.intervalsByPid.get(pid) ?? []).reduce(
      (n, i) => n + i.contexts.reduce((m, c) => m + Math.min(c.requests, EX_SLOWEST), 0),
      0,
    );
    const arrived = () => this.exemplarsByPid.get(pid) ?? { slowest: 0, sampled: 0 };
    const deadline = Date.now() + EXEMPLAR_TIMEOUT_MS;
    while (arrived().slowest < expectedSlowest && Date.now() < deadline) {
      this.checkAborted();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    trial.exemplars = { ...arrived(), expectedSlowest };
  }

  private async verifyOtel(trial: Trial, server: ManagedChild): Promise<void> {
    const answer = server.waitFor('otel-spans', OTEL_QUERY_TIMEOUT_MS);
    server.send({ type: OTEL_SPANS_QUERY });
    const report = (await answer) as unknown as OtelSpanReport;
    trial.seenWhat = 'OTel server spans exported';
    trial.seen = report.server;
    trial.otelClientSpans = report.client;
    if (!report.patched) trial.problems.push('HttpInstrumentation did not patch node:http');
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

  /**
   * One run of warm-up + measured seconds (and a short tail), measured over the window between the two: the server's
   * CPU snapshots at its edges and the responses in it. One run, not a warm-up run then a measured run: autocannon
   * opens new connections for each run, and the first request on a new connection meets code that V8 optimised for
   * the old ones (the agent's `begin` storing its slot on a connection handle of a new shape: a deopt, then
   * recompiling, in each of the pool's isolates), a one-off that would then fall in the measured seconds.
   */
  private runWindowed(url: string, connections: number, warmupSeconds: number, seconds: number, pid: number, helpers: number[]) {
    this.checkAborted();
    return new Promise<{ result: autocannon.Result; window: MeasuredWindow }>((resolve, reject) => {
      let ok = 0;
      let answeredInWindow = 0;
      let before: { snap: CpuSnapshot; at: number } | null = null;
      let window: MeasuredWindow | null = null;
      const open = setTimeout(() => {
        before = { snap: cpuSnapshot(pid, helpers), at: performance.now() };
      }, warmupSeconds * 1000);
      const close = setTimeout(() => {
        if (before) window = { before: before.snap, after: cpuSnapshot(pid, helpers), seconds: (performance.now() - before.at) / 1000, ok, answered: answeredInWindow };
      }, (warmupSeconds + seconds) * 1000);
      this.load = autocannon({ url, connections, duration: warmupSeconds + seconds + WINDOW_TAIL_SECONDS }, (err, result) => {
        this.load = null;
        clearTimeout(open);
        clearTimeout(close);
        if (err) reject(err);
        else if (this.aborted) reject(new Interrupted());
        else if (window === null) reject(new Error('the load ended before its measured window did'));
        else resolve({ result, window });
      });
      this.load.on('response', (_client: unknown, status: number) => {
        // Counted while the window is open: after its start snapshot, before its end one.
        if (before === null || window !== null) return;
        answeredInWindow++;
        if (status >= 200 && status < 300) ok++;
      });
    });
  }

  private checkAborted(): void {
    if (this.aborted) throw new Interrupted();
  }

  /** Ctrl-C: end the load and the children now; the run's promise then rejects with Interrupted. */
  abort(): void {
    this.aborted = true;
    this.load?.stop();
    void this.children.stopAll();
  }

  async stop(): Promise<void> {
    this.load?.stop();
    await this.children.stopAll();
    await this.collector?.close();
  }

  killNow(): void {
    this.children.killAllNow();
  }
}

/** What each case's instrumentation must have seen (overhead-summary.ts checks it). */
function expectations(model: BenchModel, workload: BenchCase['workload']): CaseExpectations {
  const w = WORKLOADS[workload];
  const plain = isPlainApp(w);
  return {
    otelServerSpans: model.nodeHttp,
    otelClientSpans: plain && w.client === 'http',
    otelUnseenCalls:
      plain && w.client === 'fetch'
        ? 'fetch (undici) calls make no OTel span: @opentelemetry/instrumentation-undici is not installed in this repo, ' +
          'so otel/none here is the cost of the server spans alone'
        : null,
    downstream: plain
      ? { minMs: MIN_DOWNSTREAM_SHARE * UPSTREAM.delayMs, what: `${MIN_DOWNSTREAM_SHARE} x the upstream's ${UPSTREAM.delayMs} ms` }
      : null,
  };
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
      ...FIXED,
      waitQuietSeconds: options.waitQuiet,
      quietBelowPct: QUIET_BELOW_PCT,
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
