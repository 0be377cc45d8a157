/** The JSON report (schema srvlens.report/1): the contract other tools read. */
import { REPORT_SCHEMA, type Frame, type HostFacts, type RecordingHeader, type RunEnd, type RunStart } from '../model/index.js';
import { runPhases, type PhaseStats } from '../analysis/phase-stats.js';

export interface Report {
  schema: typeof REPORT_SCHEMA;
  scenario: string;
  description: string;
  recorded: string;
  interval_ms: number;
  host: HostFacts;
  tool_version: string;
  runs: {
    server: string;
    model: string;
    size: Record<string, number>;
    /** What the /proc agent named the server's model from its processes and threads, with the evidence. */
    detected_model: { model: string; evidence: string[] } | null;
    phases: PhaseStats[];
  }[];
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
}): Report {
  return {
    schema: REPORT_SCHEMA,
    scenario: input.header.scenario.name,
    description: input.header.scenario.description,
    recorded: input.header.created,
    interval_ms: input.header.interval_ms,
    host: input.header.host,
    tool_version: input.header.tool.version,
    runs: input.runs.map((r) => {
      const { phases, ...run } = runPhases(r, input.frames);
      return { ...run, detected_model: input.ends?.find((e) => e.run === r.run)?.detected ?? null, phases };
    }),
    damage: input.damage && { offset: input.damage.offset, after_records: input.damage.afterRecords, message: input.damage.message },
    complete: input.complete,
  };
}
