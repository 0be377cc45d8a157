/**
 * A service's range in Prometheus as a recording's records: a header, and per run a run-start, its frames and a
 * run-end. The fleet is one run (every instance's intervals joined per step, as a live collector joins the processes
 * of one service), and each instance a run of its own, so a report reads per instance and for the fleet, and
 * `srvlens replay` shows them side by side. Frames are assembled by the live collector's FrameAssembler.
 */
import { RECORDING_SCHEMA, type Frame, type HostFacts, type RecordingHeader, type RunEnd, type RunStart } from '../../vocabulary/index.js';
import { toolVersion } from '../../vocabulary/package-paths.js';
import { UserError } from '../../vocabulary/errors.js';
import { recordableUrl } from '../../vocabulary/redact.js';
import { FrameAssembler } from '../frame-assembler.js';
import type { AgentInterval } from '../otlp-json.js';
import { readAgentIntervals, targetKey, type StepRange } from './agent-intervals.js';
import { PrometheusApi, isoOfUnixS as iso } from './query-api.js';
import { serviceTargets, type ServiceTarget } from './service-targets.js';

export interface PrometheusQuery {
  url: string;
  service: string;
  /** Unix seconds. */
  from: number;
  to: number;
  stepS: number;
}

export interface PrometheusRecording {
  header: RecordingHeader;
  runs: RunStart[];
  frames: Frame[];
  ends: RunEnd[];
  targets: ServiceTarget[];
}

/** Fewer steps with data than this say nothing of a rate that changes. */
export const MIN_STEPS = 3;
/** Prometheus answers a range query of at most 11,000 points per series (its query_range limit). */
const MAX_STEPS = 11_000;

function framesOf(run: number, intervalMs: number, list: readonly AgentInterval[]): Frame[] {
  const frames: Frame[] = [];
  const assembler = new FrameAssembler(run, intervalMs, { pacedBy: 'clock' });
  assembler.pipe((f) => frames.push(f));
  for (const a of [...list].sort((x, y) => x.index - y.index)) assembler.addAgents([a]);
  assembler.finish();
  // Frames of a step no instance reported are the gaps of a target down: not silence to average in.
  return frames.filter((f) => f.server !== null || f.contexts.length > 0);
}

export async function readPrometheus(q: PrometheusQuery): Promise<PrometheusRecording> {
  const api = new PrometheusApi(q.url);
  const range: StepRange = { start: Math.floor(q.from / q.stepS) * q.stepS, end: Math.floor(q.to / q.stepS) * q.stepS, stepS: q.stepS };
  if (range.end - range.start < MIN_STEPS * q.stepS) {
    throw new UserError(`the range (${q.to - q.from} s) is too short for steps of ${q.stepS} s: give at least ${MIN_STEPS} steps (a longer --last or --from/--to, or a smaller --step)`, 'PROMETHEUS_USAGE');
  }
  const steps = (range.end - range.start) / q.stepS;
  if (steps > MAX_STEPS) {
    throw new UserError(`${steps} steps of ${q.stepS} s: Prometheus answers at most ${MAX_STEPS} per query; give --step ${Math.ceil((range.end - range.start) / MAX_STEPS)}s or more`, 'PROMETHEUS_USAGE');
  }
  const targets = await serviceTargets(api, q.service, range.start, range.end);
  const byTarget = await readAgentIntervals(api, q.service, targets, range);
  const stepped = Math.max(0, ...[...byTarget.values()].map((l) => l.filter((a) => a.contexts.some((c) => c.requests > 0)).length));
  if (stepped < MIN_STEPS) {
    throw new UserError(
      `${q.service}: only ${stepped} step(s) of ${q.stepS} s between ${iso(range.start)} and ${iso(range.end)} have requests counted by its agents ` +
        `(${targets.length} target(s): ${targets.map((t) => `${t.job}/${t.instance}`).join(', ')}); need ${MIN_STEPS}: a longer range, a step no shorter than the scrape interval, or a time the service served`,
      'PROMETHEUS_NO_DATA',
    );
  }
  const intervalMs = q.stepS * 1000;
  const t0 = range.start * 1000;
  const runs: RunStart[] = [];
  const frames: Frame[] = [];
  const ends: RunEnd[] = [];
  const add = (start: Omit<RunStart, 'kind' | 'run' | 't_ms' | 'workload' | 'size'>, list: readonly AgentInterval[]) => {
    const run = runs.length;
    runs.push({ kind: 'run-start', run, size: {}, workload: {}, t_ms: t0, ...start });
    frames.push(...framesOf(run, intervalMs, list));
    ends.push({ kind: 'run-end', run, t_ms: range.end * 1000, ok: true, error: null });
  };
  const model = (ts: readonly ServiceTarget[]) => (new Set(ts.map((t) => t.model)).size === 1 ? ts[0].model : 'unknown');
  add({ server: q.service, model: model(targets), service: q.service }, [...byTarget.values()].flat());
  if (targets.length > 1) for (const t of targets) add({ server: `${q.service} ${t.instance}`, model: t.model, service: q.service, instance: t.instance }, byTarget.get(targetKey(t)) ?? []);

  const header: RecordingHeader = {
    kind: 'header',
    schema: RECORDING_SCHEMA,
    tool: { name: 'srvlens', version: toolVersion() },
    created: new Date().toISOString(),
    scenario: {
      name: `${q.service} from Prometheus`,
      file: null,
      description: `${q.service}'s agents as Prometheus at ${recordableUrl(q.url)} kept them, ${iso(range.start)} to ${iso(range.end)}, steps of ${q.stepS} s`,
      // The targets, so that a report of the recording reads their cores as this one does.
      config: { prometheus: recordableUrl(q.url), service: q.service, from: iso(range.start), to: iso(range.end), step_s: q.stepS, targets },
    },
    host: fleetHost(targets),
    interval_ms: intervalMs,
  };
  return { header, runs, frames, ends, targets };
}


/**
 * The machine the figures are from is the fleet's, not this one: its cores are what the agents said they may use,
 * summed over instances; 0 where an agent did not say (the host check is then not taken).
 */
function fleetHost(targets: readonly ServiceTarget[]): HostFacts {
  const known = targets.every((t) => t.cpuLimit !== null);
  const cores = known ? targets.reduce((s, t) => s + t.cpuLimit!, 0) : 0;
  return {
    cpus: Math.ceil(cores),
    cpu_quota_cores: known && cores < Math.ceil(cores) ? cores : null,
    cpu_model: `${targets.length} instance(s), as their agents reported`,
    cpu_speed_ghz: null,
    memory_bytes: 0,
    os: 'production (from Prometheus)',
    kernel: '',
    hostname: [...new Set(targets.map((t) => t.instance))].join(', '),
    node: '',
  };
}
