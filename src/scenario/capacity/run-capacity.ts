/**
 * `srvlens capacity`: per server of a scenario, the highest rate it sustains within the SLO, and what gave out
 * there. Each probe is a run of its own through the scenario runner (a single server, a single constant phase with
 * a warm-up, a temporary recording), judged from its frames (capacity-verdict.ts); the search is capacity-search.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from '../../vocabulary/index.js';
import { judgeProbe, type ProbeVerdict } from '../../analysis/capacity-verdict.js';
import { searchCapacity, type ServerCapacity } from './search.js';
import { runScenario } from '../run/runner.js';
import { capacitySettings, type CapacitySettings, type Scenario, type ScenarioServer } from '../schema.js';
import { formatSlo, type Slo } from '../../vocabulary/slo.js';
import { sweepPredictions, type SweepAnalysis } from '../../analysis/sweep-predictions.js';
import { CORES_KEY, varyServers, type Vary } from './vary.js';
import { summariseRun, type RunSummary } from '../../analysis/run-summary.js';
import { hostFacts } from '../run/host-facts.js';
import { KernelTracerUnavailable, kernelTracerAvailability } from '../../../agents/kernel/kernel-tracer.js';

export interface CapacityOptions {
  scenario: Scenario;
  slo: Slo;
  /** Overrides the scenario's capacity.max_seconds. */
  maxSeconds?: number;
  signal?: AbortSignal;
  onLog?: (line: string) => void;
  /** Search every server that has this size once per value, then check the sweep's fit against each (--vary). */
  vary?: Vary;
  /** The scenario's file, for messages. */
  file?: string;
  /**
   * Trace the servers with no agent in them from the kernel (agents/kernel/, root), so their probes carry their
   * requests' server-side parts and what gave out can be told from their queues. Servers with an agent go without:
   * the tracer's start (1-3 s a probe) would buy them only the accept queue's check.
   */
  kernel?: boolean;
}

export interface CapacityResult {
  /** Each server's search, and `summary`: the report's findings (run-summary.ts) over its probes as the load's steps. */
  servers: (ServerCapacity & { summary: RunSummary | null })[];
  /** With --vary: per swept server, each size's capacity against the fit of the other sizes. */
  sweeps?: { server: string; model: string; vary: string; analysis: SweepAnalysis }[];
}

/** An external server measured from outside: only the kernel can give its requests' parts. */
const withoutAgent = (server: ScenarioServer): boolean => server.command !== undefined && (server.agent ?? 'none') === 'none';

/** Whether the kernel tracer can run here; said once when it cannot (each probe would otherwise say it again). */
function kernelAvailable(log: (line: string) => void): boolean {
  try {
    kernelTracerAvailability();
    return true;
  } catch (err) {
    if (!(err instanceof KernelTracerUnavailable)) throw err;
    log(`${err.message}; carrying on without it`);
    return false;
  }
}

/**
 * What a probe costs beyond its measured window, s, until one has been timed: starting the backend, the server and
 * the generator, the wait for the first boundary, the drain and the agents' last export.
 */
const FIRST_GUESS_OVERHEAD_S = 4;

export async function runCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const { scenario, slo, signal } = options;
  const log = options.onLog ?? (() => undefined);
  const settings: CapacitySettings = { ...capacitySettings(scenario), ...(options.maxSeconds !== undefined ? { max_seconds: options.maxSeconds } : {}) };
  const start = performance.now();
  const deadline = start + settings.max_seconds * 1000;
  let overheadS = FIRST_GUESS_OVERHEAD_S;
  const results: CapacityResult['servers'] = [];
  const host = await hostFacts();
  const plan = options.vary ? varyServers(scenario, options.vary, options.file ?? scenario.name) : scenario.servers.map((server) => ({ base: server, value: 0, server }));
  const servers = plan.map((p) => p.server);
  const kernel = options.kernel === true && servers.some(withoutAgent) && kernelAvailable(log);

  for (const [i, server] of servers.entries()) {
    const base = { server: server.name, model: server.model, slo: formatSlo(slo) };
    // Each server gets an even share of the time that is left.
    const serverDeadline = performance.now() + (deadline - performance.now()) / (servers.length - i);
    log(`${server.name} (${server.model}): searching, SLO ${formatSlo(slo)}${kernel && withoutAgent(server) ? "; its requests' parts from the kernel tracer (eBPF)" : ''}`);
    // Each probe's frames, the longest window per rate: the steps of the server's load curve.
    const steps = new Map<number, Frame[]>();
    try {
      const found = await searchCapacity({
        settings,
        canProbe: (seconds) => !signal?.aborted && performance.now() + (settings.warmup_s + seconds + overheadS) * 1000 <= serverDeadline,
        probe: async (rate, seconds) => {
          const t0 = performance.now();
          const { verdict: v, frames } = await probeOnce(scenario, server, settings, slo, rate, seconds, kernel && withoutAgent(server), signal);
          if ((steps.get(rate)?.length ?? 0) < frames.length) steps.set(rate, frames);
          overheadS = Math.max(1, (performance.now() - t0) / 1000 - settings.warmup_s - seconds);
          log(`  ${server.name} ${String(rate).padStart(7)} req/s over ${seconds} s: ${v.pass ? 'pass' : 'FAIL'}  achieved ${v.achieved_rps} req/s  ${latencyText(v)}  errors ${(v.error_rate * 100).toFixed(1)}%${v.pass ? '' : `  (${v.gave_out})`}`);
          return v;
        },
      });
      const phases = [...steps].sort((a, b) => a[0] - b[0]).map(([rate, frames]) => ({ name: `probe@${rate}`, frames }));
      const summary = phases.length ? summariseRun({ server: server.name, model: server.model, size: server.size, phases, host, slo, cores: server.cores }) : null;
      results.push({ ...base, ...found, summary });
      log(`${server.name}: ${found.max_sustainable_rps === null ? 'no sustainable rate' : `${found.max_sustainable_rps} req/s`}; ${found.reason}`);
    } catch (err) {
      if (signal?.aborted) throw err;
      results.push({ ...base, max_sustainable_rps: null, reason: `a probe run failed: ${(err as Error).message}`, gave_out: 'run-failed', confirmed: false, probes: [], summary: null });
      log(`${server.name}: a probe run failed: ${(err as Error).message}`);
    }
  }
  if (!options.vary) return { servers: results };
  const vary = options.vary;
  const sweeps = [...new Set(plan.map((p) => p.base))].map((base) => {
    const mine = plan.map((p, i) => ({ ...p, result: results[i] })).filter((p) => p.base === base);
    // lambda from the smallest size's lightest passing probe: one context's throughput with the least contention.
    const lightest = mine[0].result.probes.filter((v) => v.pass).sort((a, b) => a.rate - b.rate)[0];
    // The USL models throughput: each size's capacity is the most its probes answered (a probe past the limit shows
    // it whatever the SLO), steadier than the highest rate within the SLO, which sits where latency is steepest.
    const analysis = sweepPredictions(mine.map((p) => ({ n: p.value, measured_rps: p.result.summary?.peak_rps ?? null })), sweepLambda(vary.key, lightest));
    return { server: base.name, model: base.model, vary: vary.key, analysis };
  });
  return { servers: results, sweeps };
}

/** One context's throughput: a core's, 1000 / CPU ms per request; a pool's thread or process, 1000 / the time held. */
function sweepLambda(key: string, probe: ProbeVerdict | undefined): SweepAnalysis['lambda'] {
  if (key === CORES_KEY) {
    const cpu = probe?.cpu_ms_per_request ?? null;
    return cpu ? { rps: 1000 / cpu, basis: `1000 / ${cpu.toFixed(3)} ms CPU per request at the fewest cores` } : null;
  }
  const hold = probe?.hold_ms ?? null;
  return hold ? { rps: 1000 / hold, basis: `1000 / ${hold.toFixed(2)} ms held per request at the smallest size` } : null;
}

function latencyText(v: ProbeVerdict): string {
  return Object.entries(v.latency_ms).map(([k, ms]) => `${k.replace('_ms', '')} ${ms.toFixed(2)} ms`).join('  ');
}

/** One probe: the server alone at `rate` for a warm-up and `seconds`, recorded to a temporary file and judged. */
async function probeOnce(
  scenario: Scenario,
  server: ScenarioServer,
  s: CapacitySettings,
  slo: Slo,
  rate: number,
  seconds: number,
  kernel: boolean,
  signal?: AbortSignal,
): Promise<{ verdict: ProbeVerdict; frames: Frame[] }> {
  const probe: Scenario = {
    ...scenario,
    servers: [server],
    load: { ...scenario.load, phases: [{ kind: 'constant', name: 'probe', rate, duration_s: seconds, warmup_s: s.warmup_s, arrivals: 'even' }] },
  };
  const dir = mkdtempSync(join(tmpdir(), 'srvlens-capacity-'));
  const frames: Frame[] = [];
  // A signal per probe: the runner leaves its listeners on the signal it is given, and a search runs dozens of probes.
  const own = new AbortController();
  const forward = () => own.abort();
  signal?.addEventListener('abort', forward, { once: true });
  try {
    await runScenario({ scenario: probe, scenarioFile: null, out: join(dir, 'probe.srvlens.gz'), signal: own.signal, onFrame: (f) => frames.push(f), kernel });
  } finally {
    signal?.removeEventListener('abort', forward);
    rmSync(dir, { recursive: true, force: true });
  }
  // Warm-up intervals are marked by the generator and left out of the figures.
  const measured = frames.filter((f) => f.generator !== null && !f.generator.warmup);
  return { verdict: judgeProbe(rate, measured, slo), frames: measured };
}
