/** Reads a recording (complete or cut short) into a report. */
import type { Frame, RecordingHeader, RunEnd, RunStart, Slo } from '../vocabulary/index.js';
import { readRecording } from '../recording/reader.js';
import { RecordingError } from '../recording/errors.js';
import { buildReport, type Report } from './json-report.js';
import { recordedTargets, reportFromRecords } from './production-report.js';

/** `slo`: judge against it instead of the scenario's. */
export async function reportFromFile(path: string, slo: Slo | null = null): Promise<Report> {
  const { header, records, damage } = await readRecording(path);
  if (!header) throw new RecordingError('RECORDING_INVALID', path, `${path}: no recording header${damage ? `: ${damage.message}` : ''}`);
  const runs = records.filter((r): r is RunStart => r.kind === 'run-start');
  const ends = records.filter((r): r is RunEnd => r.kind === 'run-end');
  const frames = records.filter((r): r is Frame => r.kind === 'frame');
  const complete = records.some((r) => r.kind === 'end');
  // A recording of Prometheus (`srvlens record`) is reported as `report --prometheus` reports it.
  const production = recordedTargets(header as RecordingHeader);
  if (production && !damage) return reportFromRecords({ header: header as RecordingHeader, runs, ends, frames, targets: production.targets }, production.service, null, slo);
  return buildReport({ header: header as RecordingHeader, runs, ends, frames, damage, complete, slo });
}
