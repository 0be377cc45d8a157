/** `srvlens report --prometheus`: a service's range read from Prometheus, reported (production-report.ts). */
import type { Slo } from '../vocabulary/index.js';
import { UserError } from '../vocabulary/errors.js';
import { readPrometheus, type PrometheusQuery } from '../collect/prometheus/read-prometheus.js';
import type { CapacityRun } from '../analysis/production-summary.js';
import type { Report } from './json-report.js';
import { reportFromFile } from './load-report.js';
import { reportFromRecords } from './production-report.js';

/** A capacity run's answer for the service: the run of that name, else the file's only run with a summary. */
export async function capacityFrom(file: string, service: string): Promise<CapacityRun> {
  const report = await reportFromFile(file);
  const runs = report.runs.filter((r) => r.source === 'generator' && r.summary?.peak_rps != null);
  const run = runs.find((r) => r.server === service) ?? (runs.length === 1 ? runs[0] : undefined);
  if (!run || run.source !== 'generator' || !run.summary) {
    throw new UserError(
      `--capacity ${file}: ${runs.length ? `no run of a server named '${service}' among ${runs.map((r) => `'${r.server}'`).join(', ')}` : 'no run with a load curve in it (a recording of `srvlens run` is)'}`,
      'PROMETHEUS_USAGE',
    );
  }
  const s = run.summary;
  return { rps: s.knee_rps ?? s.peak_rps!, limited_by: s.limited_by, at_least: s.knee_rps === null, source: `${file} (${run.server})` };
}

export async function reportFromPrometheus(q: PrometheusQuery, o: { capacityFile?: string; slo?: Slo | null }): Promise<Report> {
  const capacity = o.capacityFile ? await capacityFrom(o.capacityFile, q.service) : null;
  return reportFromRecords(await readPrometheus(q), q.service, capacity, o.slo ?? null);
}
