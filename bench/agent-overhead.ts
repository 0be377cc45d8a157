/**
 * What the srvlens agent costs the server it observes: the event-loop reference server at saturation with no
 * agent, with the srvlens agent (exporting to a real collector), and with OpenTelemetry's HTTP tracing, interleaved
 * in one go and reported as ratios to the no-agent run. A measurement, not a test: it exits 0 when the target is
 * missed, and says MISSED.
 *
 *   npm run bench:agent-overhead -- [--rounds 3] [--seconds 5] [--workload hello|default|all] [--json]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { AgentInterval } from '../src/collect/otlp-json.js';
import { startCollector, type Collector } from '../src/collect/receiver.js';
import { intervalIndex, monoMs } from '../src/model/index.js';
import { ChildSet, type ManagedChild } from '../src/scenario/children.js';
import { hostFacts } from '../src/scenario/host-facts.js';
import { ENTRY } from '../src/scenario/paths.js';
import { DEFAULT_WORKLOAD, type WorkloadParams } from '../src/servers/workload.js';
import { OTEL_SPANS_QUERY, type OtelSpanReport } from './otel-ipc.js';
import { cpuFigures, cpuSnapshot, waitForQuietMachine } from './proc-cpu.js';
import { formatText, type BenchSettings } from './overhead-report.js';
import { roundOrder, summariseWorkload, type Trial, type VariantId } from './overhead-summary.js';

const WORKLOADS: Readonly<Record<string, WorkloadParams>> = {
  // No CPU stage, no backend, a small body: the per-request overhead is the largest share of each request here.
  hello: { parse_us: 0, process_us: 0, transform_us: 0, backend_calls: 0, response_bytes: 64 },
  default: { ...DEFAULT_WORKLOAD },
};

const FIXED = { warmupSeconds: 1, connections: 50, backendLatencyMs: 1, backendLimit: 1024, agentIntervalMs: 1000 };
const READY_TIMEOUT_MS = 15_000;
/**
 * Before each trial, wait (up to --wait-quiet seconds) until other processes use less than this share of one core:
 * on the project's shared 2-core VMs another engineer's test run halves a trial's req/s.
 */
const QUIET_BELOW_PCT = 15;
/** The agent exports each interval a few ms after its boundary; wait for the one the load ended in, this long. */
const LAST_INTERVAL_TIMEOUT_MS = FIXED.agentIntervalMs * 3;
const OTEL_QUERY_TIMEOUT_MS = 10_000;

const USAGE =
  'usage: node dist/bench/agent-overhead.js [--rounds N] [--seconds S] [--workload hello|default|all] [--wait-quiet S] [--json]';

class UsageError extends Error {}
class Interrupted extends Error {}

interface Options {
  rounds: number;
  seconds: number;
  workloads: string[];
  /** Seconds to wait before each trial for other processes to go quiet; 0: do not wait. */
  waitQuiet: number;
  json: boolean;
}

function int(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rounds: { type: 'string' },
        seconds: { type: 'string' },
        workload: { type: 'string' },
        'wait-quiet': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const workload = values.workload ?? 'all';
  if (workload !== 'all' && !Object.hasOwn(WORKLOADS, workload)) {
    throw new UsageError(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}, all; got '${workload}'`);
  }
  return {
    rounds: int('rounds', values.rounds, 3, 1),
    seconds: int('seconds', values.seconds, 5, 1),
    workloads: workload === 'all' ? Object.keys(WORKLOADS) : [workload],
    waitQuiet: int('wait-quiet', values['wait-quiet'], 120, 0),
    json: values.json ?? false,
  };
}

const answered = (r: autocannon.Result): number => r['2xx'] + r.non2xx;

class OverheadBench {
  private readonly children = new ChildSet();
  private readonly intervalsByPid = new Map<number, AgentInterval[]>();
  private collector: Collector | null = null;
  private backendPort = 0;
  private backendPid = 0;
  private load: autocannon.Instance | null = null;
  aborted = false;

  constructor(private readonly options: Options) {}

  async start(): Promise<void> {
    this.collector = await startCollector({
      intervalMs: FIXED.agentIntervalMs,
      onAgentIntervals: (intervals) => {
        for (const i of intervals) {
          const list = this.intervalsByPid.get(i.pid) ?? [];
          list.push(i);
          this.intervalsByPid.set(i.pid, list);
        }
      },
    });
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
    for (const workload of this.options.workloads) {
      for (let round = 0; round < this.options.rounds; round++) {
        const order = roundOrder(round);
        for (let slot = 0; slot < order.length; slot++) {
          const t = await this.trial(workload, round, slot, order[slot]);
          trials.push(t);
          const other = t.otherCpuPct === null ? '' : `, other processes ${t.otherCpuPct.toFixed(0)} % of a core`;
          const seen = t.seen === null ? '' : `, ${t.seenWhat}: ${t.seen} of ${t.responses} responses`;
          process.stderr.write(
            `[${workload} round ${round + 1}/${this.options.rounds}] ${t.variant.padEnd(8)} ` +
              `${Math.round(t.reqPerSec).toLocaleString('en-US').padStart(7)} req/s${other}${seen}\n`,
          );
        }
      }
    }
    return trials;
  }

  private variant(variant: VariantId): { execArgv: string[]; env: Record<string, string> } {
    switch (variant) {
      case 'none':
        return { execArgv: [], env: {} };
      case 'srvlens':
        return {
          execArgv: ['--import', ENTRY.agent],
          env: {
            SRVLENS_COLLECTOR_URL: this.collector!.metricsUrl,
            SRVLENS_INTERVAL_MS: String(FIXED.agentIntervalMs),
            SRVLENS_MODEL: 'event-loop',
            SRVLENS_SERVER_NAME: 'agent-overhead-bench',
          },
        };
      case 'otel': {
        const preload = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'otel-http-preload.js')).href;
        // The SDK's defaults would otherwise export metrics and logs to localhost:4318 and retry on shutdown.
        return { execArgv: ['--import', preload], env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' } };
      }
    }
  }

  private async trial(workload: string, round: number, slot: number, variant: VariantId): Promise<Trial> {
    this.checkAborted();
    if (this.options.waitQuiet > 0) await this.waitQuiet();
    const { execArgv, env } = this.variant(variant);
    const config = { model: 'event-loop', host: '127.0.0.1', port: 0, workload: WORKLOADS[workload], backend: { host: '127.0.0.1', port: this.backendPort } };
    const server = this.children.fork(`server (${variant})`, ENTRY.serve, { execArgv, env: { ...env, SRVLENS_SERVE_CONFIG: JSON.stringify(config) } });
    try {
      const { port, pid } = await this.ready(server);
      const url = `http://127.0.0.1:${port}/`;
      const warm = await this.run(url, FIXED.warmupSeconds);
      const before = cpuSnapshot(pid, this.backendPid);
      const measured = await this.run(url, this.options.seconds);
      const after = cpuSnapshot(pid, this.backendPid);
      const trial: Trial = {
        workload,
        round,
        slot,
        variant,
        reqPerSec: measured['2xx'] / measured.duration,
        ...cpuFigures(before, after, measured.duration, answered(measured)),
        responses: answered(warm) + answered(measured),
        errors: warm.errors + measured.errors + warm.timeouts + measured.timeouts,
        non2xx: warm.non2xx + measured.non2xx,
        seen: null,
        seenWhat: null,
        problems: [],
      };
      if (variant === 'srvlens') await this.verifyAgent(trial, pid);
      if (variant === 'otel') await this.verifyOtel(trial, server);
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
    if (list.length === 0) trial.problems.push(`the agent (pid ${pid}) exported no interval to the collector`);
    const errors = list.reduce((n, i) => n + i.agent_errors, 0);
    const dropped = list.reduce((n, i) => n + i.dropped, 0);
    if (errors > 0) trial.problems.push(`the agent counted ${errors} errors in its callbacks`);
    if (dropped > 0) trial.problems.push(`the agent dropped ${dropped} requests or intervals`);
    if (this.collector!.rejected.length > 0) trial.problems.push(`the collector rejected exports: ${this.collector!.rejected[0].reason}`);
    this.intervalsByPid.delete(pid);
  }

  private async verifyOtel(trial: Trial, server: ManagedChild): Promise<void> {
    const answer = server.waitFor('otel-spans', OTEL_QUERY_TIMEOUT_MS);
    server.send({ type: OTEL_SPANS_QUERY });
    const report = (await answer) as unknown as OtelSpanReport;
    trial.seenWhat = 'OTel spans exported';
    trial.seen = report.exported;
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

  private run(url: string, seconds: number): Promise<autocannon.Result> {
    this.checkAborted();
    return new Promise((resolve, reject) => {
      this.load = autocannon({ url, connections: FIXED.connections, duration: seconds }, (err, result) => {
        this.load = null;
        if (err) reject(err);
        else if (this.aborted) reject(new Interrupted());
        else resolve(result);
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
    const workloads = options.workloads.map((id) => ({ id, params: WORKLOADS[id], summary: summariseWorkload(id, trials) }));
    if (options.json) {
      const json = { machine: host, settings, workloads: workloads.map((w) => ({ id: w.id, params: w.params, ...w.summary })), trials };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    } else {
      process.stdout.write(formatText(host, settings, workloads));
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
