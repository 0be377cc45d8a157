/**
 * A recording opened for replay without loading it: one pass with iterateRecording notes where each frame's
 * member starts (and its phase, to know the phase spans); frames are then read back from those byte offsets around
 * the cursor, a few at a time, into a bounded cache. Memory grows with the number of frames by a few numbers each,
 * not with their size.
 */
import type { HostCores } from '../../src/analysis/self-checks.js';
import { open, type FileHandle } from 'node:fs/promises';
import type { Frame, RecordingRecord, Slo } from '../../src/vocabulary/index.js';
import { iterateRecording } from '../../src/recording/reader.js';
import { decodeMember, frameSummary } from '../../src/recording/format.js';
import { upgradeFrame } from '../../src/recording/upgrade-frame.js';
import { newRunInfo, noteFrame, planFromConfig, ranSideBySide, type PhasePlan, type RunInfo, type Timeline } from './timeline.js';

/**
 * Decoded frames kept: a chart window (CHART_WINDOW) plus a phase window (PHASE_WINDOW) for each of eight servers
 * in the Compare view, with room to spare. About 3.5 KB a decoded frame (bench/dashboard-render.ts): under 2 MB.
 */
const CACHE_FRAMES = 512;

interface RunIndex {
  info: RunInfo;
  /** Byte offset and length of each frame's member, by position. */
  offsets: number[];
  lengths: number[];
}

export class RecordingIndex implements Timeline {
  readonly source = 'replay' as const;
  private readonly cache = new Map<string, Frame>();
  readonly concurrent: boolean;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly scenario: string,
    readonly intervalMs: number,
    readonly plan: readonly PhasePlan[] | null,
    readonly slo: Slo | null,
    readonly host: HostCores | null,
    readonly damage: string | null,
    private readonly index: RunIndex[],
    /** The schema the file was written in: frames read back are upgraded from it (upgrade-frame.ts). */
    private readonly schema: string,
  ) {
    this.concurrent = ranSideBySide(this.runs());
  }

  /** Indexes the recording; throws RecordingError when it is no recording at all (not for damage). */
  static async open(path: string): Promise<RecordingIndex> {
    let scenario = '';
    let intervalMs = 1000;
    let plan: PhasePlan[] | null = null;
    let slo: Slo | null = null;
    let host: HostCores | null = null;
    let damage: string | null = null;
    let schema = '';
    const runs = new Map<number, RunIndex>();
    // Frames as the summaries their members carry (schema /4 on): checked (/5 by their CRCs, /4 by inflating them),
    // not parsed. Older files' are parsed.
    for await (const entry of iterateRecording(path, { summaries: true })) {
      if (entry.type === 'damage') {
        damage = entry.damage.message;
        break;
      }
      if (entry.type === 'summary' || entry.record.kind === 'frame') {
        const frame = entry.type === 'summary' ? entry.summary : frameSummary(entry.record as Frame);
        const run = runs.get(frame.run);
        if (!run) continue; // a frame of a run that never started cannot be shown under any server
        noteFrame(run.info, frame);
        run.offsets.push(entry.offset);
        run.lengths.push(entry.bytes);
        continue;
      }
      const r: RecordingRecord = entry.record;
      if (r.kind === 'header') {
        schema = r.schema;
        scenario = r.scenario.name;
        intervalMs = r.interval_ms;
        ({ plan, slo } = planFromConfig(r.scenario.config));
        host = r.host;
      } else if (r.kind === 'run-start') {
        runs.set(r.run, { info: newRunInfo(r), offsets: [], lengths: [] });
      } else if (r.kind === 'run-end') {
        const run = runs.get(r.run);
        if (run) run.info.ended = { ok: r.ok, error: r.error };
      }
    }
    const fh = await open(path, 'r');
    return new RecordingIndex(fh, path, scenario, intervalMs, plan, slo, host, damage, [...runs.values()], schema);
  }

  runs(): readonly RunInfo[] {
    return this.index.map((r) => r.info);
  }

  async frames(run: number, from: number, to: number): Promise<readonly Frame[]> {
    const r = this.index[run];
    if (!r) return [];
    const out: Frame[] = [];
    for (let pos = Math.max(0, from); pos < Math.min(to, r.offsets.length); pos++) out.push(await this.frameAt(run, r, pos));
    return out;
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.fh.close();
  }

  private async frameAt(run: number, r: RunIndex, pos: number): Promise<Frame> {
    const key = `${run}:${pos}`;
    const hit = this.cache.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const buffer = Buffer.alloc(r.lengths[pos]);
    await this.fh.read(buffer, 0, buffer.length, r.offsets[pos]);
    // The indexing pass checked this very member already (its CRCs, or inflated it), so a failure here means the file
    // changed under us.
    const frame = upgradeFrame(JSON.parse(decodeMember(buffer)) as Frame, this.schema);
    this.cache.set(key, frame);
    if (this.cache.size > CACHE_FRAMES) this.cache.delete(this.cache.keys().next().value as string);
    return frame;
  }
}
