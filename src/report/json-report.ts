/** The JSON report (schema srvlens.report/1): the contract other tools read. */
import { REPORT_SCHEMA, type Frame, type HostFacts, type RecordingHeader, type RunStart } from '../model/index.js';
import { runPhases, type PhaseStats } from '../analysis/phase-stats.js';

export interface Report {
  schema: typeof REPORT_SCHEMA;
  scenario: string;
  description: string;
  recorded: string;
  interval_ms: number;
  host: HostFacts;
  tool_version: string;
  runs: { server: string; model: string; size: Record<string, number>; phases: PhaseStats[] }[];
  /** Present when the recording was cut short: what was read and where it stopped. */
  damage: { offset: number; after_records: number; message: string } | null;
  complete: boolean;
}

export function buildReport(input: {
  header: RecordingHeader;
  runs: RunStart[];
  frames: Frame[];
  damage: { offset: number; afterRecords: number; message: string } | null;
  complete: boolean;
}): Report {
  return {
    schema: REPORT_SCHEMA,
    scenario: input.header.scenario.name,
    description: input.header.scenario.description,
    recorded: input.header.created,
    interval_ms: input.header.interval_ms,
    host: input.header.host,
    tool_version: input.header.tool.version,
    runs: input.runs.map((r) => runPhases(r, input.frames)),
    damage: input.damage && { offset: input.damage.offset, after_records: input.damage.afterRecords, message: input.damage.message },
    complete: input.complete,
  };
}
