/**
 * The JSON report (schema srvlens.report/2): the contract other tools read. /2 adds, beside every field of /1 (so a
 * reader of /1 reads /2): `slo`, `comparison` and `usl` at the top, and per generator run a `summary` (RunSummary in
 * src/analysis/run-summary.ts: peak, knee, max sustainable, limited_by with evidence, graceful, cost at the knee,
 * predictions, diagnosis); docs/report-json.md documents them field by field.
 *
 * Each run says what measured it in `source`. `generator`: `srvlens run`, a load generator and the servers' agents;
 * its phases are PhaseStats. `agents-only`: a recording of `srvlens dashboard --out`, servers loaded by something
 * else; its one phase (`live`) has the same fields, the client's figures null (offered and achieved rate, requests
 * and errors as a client saw them, latency, send_wait, network, coverage, matched_share, the generator's own), and
 * adds what the agents counted: `served_rps`, `server_time_ms` (handler start to response end) and
 * `server_time_coverage`. Reports written before `source` existed are all of generator runs.
 *
 * Every phase carries `checks` (self-checks.ts): its figures held against the host, the client, Little's law and the
 * clock, each `{ id, ok, detail }`, ok null where it could not be taken; each run counts its failed ones in
 * `checks_failed`.
 */
import { REPORT_SCHEMA, formatSlo, type Frame, type ModelSeen, type HostFacts, type RecordingHeader, type RunEnd, type RunFailure, type RunStart } from '../vocabulary/index.js';
import { runPhases, type PhaseStats } from '../analysis/phase-stats.js';
import { agentsOnlyRunPhases, type AgentsOnlyPhaseStats } from '../analysis/agents-only-phase.js';
import { measuredBy } from '../analysis/server-side-stats.js';
import { failedChecks, type Check } from '../analysis/self-checks.js';
import { summariseRun, type RunSummary } from '../analysis/run-summary.js';
import type { ProductionSummary } from '../analysis/production-summary.js';
import { comparisonRows, type ComparisonRow } from '../analysis/comparison.js';
import { sweepFits, type SweepFit } from '../analysis/sweep-fit.js';
import { phasesOf } from '../analysis/phase-grouping.js';
import type { Slo } from '../vocabulary/index.js';

export type ReportRun = {
  server: string;
  model: string;
  size: Record<string, number>;
  /** The CPUs the server was pinned to (its first N), where the scenario said. */
  cores?: number;
  /** What the /proc agent named the server's model from its processes and threads, with the evidence. */
  detected_model: ModelSeen | null;
  /** Checks that failed, over all of the run's phases. */
  checks_failed: number;
  /**
   * How the run ended: ok, or the error that ended it; `failure` when its server or its backend died (exit status,
   * end of stderr), the scenario having gone on with the next server. null when the recording stops before.
   */
  ended: { ok: boolean; error: string | null; failure: RunFailure | null } | null;
} & (
  | { source: 'generator'; summary: RunSummary | null; phases: PhaseStats[] }
  /** summary: a service read from Prometheus has its headroom and instances (production-summary.ts); else null. */
  | { source: 'agents-only'; summary: ProductionSummary | null; phases: AgentsOnlyPhaseStats[] }
);

export interface Report {
  schema: typeof REPORT_SCHEMA;
  scenario: string;
  description: string;
  recorded: string;
  interval_ms: number;
  host: HostFacts;
  tool_version: string;
  /** The SLO the runs were judged against (the scenario's, or the report's --slo), as text; null when none. */
  slo: string | null;
  /** Every generator run a row, highest peak first (comparison.ts). */
  comparison: ComparisonRow[];
  /** The USL across runs of one model that differ in one size (sweep-fit.ts); empty when the runs are no sweep. */
  usl: SweepFit[];
  runs: ReportRun[];
  /** Present when the recording was cut short: what was read and where it stopped. */
  damage: { offset: number; after_records: number; message: string } | null;
  complete: boolean;
}

export function buildReport(input: {
  header: RecordingHeader;
  runs: RunStart[];
  ends?: RunEnd[];
  frames: Frame[];
  damage: { offset: number; afterRecords: number; message: string } | null;
  complete: boolean;
  /** Judge against this SLO instead of the scenario's. */
  slo?: Slo | null;
}): Report {
  const slo = input.slo ?? scenarioSlo(input.header);
  // A host of 0 CPUs is one nobody measured (a fleet read from Prometheus whose agents did not say): no host checks.
  const host = input.header.host.cpus > 0 ? input.header.host : null;
  const runs = input.runs.map((r) => reportRun(r, input.frames, input.ends?.find((e) => e.run === r.run) ?? null, host, slo));
  const generatorRuns = runs.filter((r): r is Extract<ReportRun, { source: 'generator' }> => r.source === 'generator');
  return {
    schema: REPORT_SCHEMA,
    scenario: input.header.scenario.name,
    description: input.header.scenario.description,
    recorded: input.header.created,
    interval_ms: input.header.interval_ms,
    host: input.header.host,
    tool_version: input.header.tool.version,
    slo: slo ? formatSlo(slo) : null,
    comparison: comparisonRows(generatorRuns),
    // Pinned cores sweep like a size: a recording of the same model on 1 and 2 cores is a sweep of `cores`.
    usl: sweepFits(generatorRuns.map((r) => ({ model: r.model, size: { ...r.size, ...(r.cores !== undefined ? { cores: r.cores } : {}) }, peak_rps: r.summary?.peak_rps ?? null }))),
    runs,
    damage: input.damage && { offset: input.damage.offset, after_records: input.damage.afterRecords, message: input.damage.message },
    complete: input.complete,
  };
}

/** The scenario's SLO as the recording's header holds it (the parsed scenario), or null. */
function scenarioSlo(header: RecordingHeader): Slo | null {
  const config = header.scenario.config as { slo?: Slo } | null;
  const slo = config?.slo;
  return slo && typeof slo.max_error_rate === 'number' ? slo : null;
}

function reportRun(r: RunStart, frames: readonly Frame[], end: RunEnd | null, host: HostFacts | null, slo: Slo | null): ReportRun {
  const ended = end && { ok: end.ok, error: end.error, failure: end.failure ?? null };
  const run = { server: r.server, model: r.model, size: r.size, ...(r.cores !== undefined ? { cores: r.cores } : {}), detected_model: end?.detected ?? null, ended };
  // A run with a generator report is the generator's: its phases are the generator's. A run with frames and none
  // from a generator (a dashboard recording, or a run whose generator never reported) has what the server side
  // measured and nothing else. A run without frames has no phases either way, as before `source` existed.
  const own = frames.filter((f) => f.run === r.run);
  if (own.length === 0 || measuredBy(own) === 'generator') {
    const phases = runPhases(r, own, host).phases;
    const summary = phases.length ? summariseRun({ server: r.server, model: r.model, size: r.size, phases: phasesOf(own).map((p, i) => ({ ...p, stats: phases[i] })), host, slo, cores: r.cores }) : null;
    return { ...run, checks_failed: countFailed(phases), source: 'generator', summary, phases };
  }
  const phases = agentsOnlyRunPhases(r, own, host);
  return { ...run, checks_failed: countFailed(phases), source: 'agents-only', summary: null, phases };
}

const countFailed = (phases: readonly { checks: Check[] }[]) => phases.reduce((n, p) => n + failedChecks(p.checks).length, 0);
