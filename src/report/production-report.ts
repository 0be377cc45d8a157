/**
 * The report of a service read from Prometheus, live (`srvlens report --prometheus`) or from its recording (`srvlens
 * record`): its range as a recording's records (src/collect/prometheus/read-prometheus.ts), reported as any
 * recording is, and the fleet's run given what only production asks: the headroom left at its busiest, and which
 * instance is unlike the others.
 */
import type { RecordingHeader, Slo } from '../vocabulary/index.js';
import type { ServiceTarget } from '../collect/prometheus/service-targets.js';
import type { PrometheusRecording } from '../collect/prometheus/read-prometheus.js';
import { summariseProduction, type CapacityRun } from '../analysis/production-summary.js';
import { buildReport, type Report } from './json-report.js';

/** The targets a recording made by `srvlens record` keeps in its header; null for any other recording. */
export function recordedTargets(header: RecordingHeader): { service: string; targets: ServiceTarget[] } | null {
  const c = header.scenario.config as { prometheus?: string; service?: string; targets?: ServiceTarget[] } | null;
  return c?.prometheus && c.service && Array.isArray(c.targets) ? { service: c.service, targets: c.targets } : null;
}

export function reportFromRecords(rec: PrometheusRecording, service: string, capacity: CapacityRun | null, slo: Slo | null): Report {
  const report = buildReport({ header: rec.header, runs: rec.runs, ends: rec.ends, frames: rec.frames, damage: null, complete: true, slo });
  const of = (run: number) => rec.frames.filter((f) => f.run === run);
  const instanceRuns = rec.runs.filter((r) => r.instance !== undefined);
  const target = (instance: string) => rec.targets.find((t) => t.instance === instance) ?? null;
  const fleet = report.runs[0];
  if (fleet?.source === 'agents-only') {
    fleet.summary = summariseProduction({
      service,
      frames: of(0),
      instances: (instanceRuns.length ? instanceRuns : [{ ...rec.runs[0], instance: rec.targets[0]?.instance ?? '' }]).map((r) => ({
        server: r.server,
        instance: r.instance!,
        frames: of(r.run),
        cpuLimit: target(r.instance!)?.cpuLimit ?? null,
        cpuLimitSource: target(r.instance!)?.cpuLimitSource ?? null,
      })),
      capacity,
    });
  }
  return report;
}

