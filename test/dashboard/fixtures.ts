/** The recorded fixtures and ways to derive variants of their frames for the cases a recording did not catch. */
import { copyFileSync, mkdtempSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, RecordingHeader, RunStart } from '../../src/vocabulary/index.js';
import { readRecording } from '../../src/recording/reader.js';
import { RecordingWriter } from '../../src/recording/writer.js';

/** Three event-loop servers (lean, cpu-heavy, chatty), phases warm and busy; recorded by `srvlens run` (see the .yaml). */
export const THREE_LOOPS = join(import.meta.dirname, 'fixtures/three-loops.srvlens.gz');

/** The tour (scenarios/tour.yaml) as recorded: nine servers, one after another, five steps r25..r400 each. */
export const TOUR = join(import.meta.dirname, '../report/fixtures/tour.srvlens.gz');

export async function recorded(path = THREE_LOOPS): Promise<{ runs: RunStart[]; frames: Frame[] }> {
  const { records } = await readRecording(path);
  return {
    runs: records.filter((r): r is RunStart => r.kind === 'run-start'),
    frames: records.filter((r): r is Frame => r.kind === 'frame'),
  };
}

/** A copy of a frame to change: recorded frames stay as they were. */
export const variant = (frame: Frame, change: (f: Frame) => void): Frame => {
  const f = structuredClone(frame);
  change(f);
  return f;
};

/** A copy of the fixture cut `bytes` before its end, as a run killed while writing leaves it. */
export function cutCopy(bytes: number, path = THREE_LOOPS): string {
  const out = join(mkdtempSync(join(tmpdir(), 'srvlens-dash-')), 'cut.srvlens.gz');
  copyFileSync(path, out);
  truncateSync(out, statSync(out).size - bytes);
  return out;
}

/**
 * A recording as `srvlens dashboard --out` makes one: servers reported by their agents, no generator, side by side
 * on the clock. Made from the fixture's lean and chatty frames, without their generator reports, lean from interval
 * 1000 on and chatty from interval 1004 on (`offset`), each frame renumbered onto that clock.
 */
export async function sideBySideCopy(offset = 4): Promise<string> {
  const { header, records } = await readRecording(THREE_LOOPS);
  const out = join(mkdtempSync(join(tmpdir(), 'srvlens-dash-')), 'side-by-side.srvlens.gz');
  const w = RecordingWriter.open(out);
  const h = header as RecordingHeader;
  w.write({ ...h, scenario: { name: 'dashboard on 127.0.0.1:4318', file: null, description: 'srvlens dashboard: servers as their agents reported them, no load generator', config: null } });
  const starts = records.filter((r): r is RunStart => r.kind === 'run-start');
  const servers = [starts[0], starts[2]].map((s, run) => ({ ...s, run, model: 'unknown', size: {}, workload: {} }));
  const own = servers.map((s, i) => records.filter((r): r is Frame => r.kind === 'frame' && r.run === [starts[0], starts[2]][i].run));
  for (const s of servers) w.write(s);
  const first = [1000, 1000 + offset];
  const length = Math.min(own[0].length, own[1].length);
  // In clock order, as the collector writes them.
  for (let t = 1000; t < 1000 + offset + length; t++) {
    for (const [run, frames] of own.entries()) {
      const pos = t - first[run];
      if (pos < 0 || pos >= length) continue;
      const f = frames[pos];
      w.write({ ...f, run, index: t, t_ms: t * f.interval_ms, phase: null, generator: null } as Frame);
    }
  }
  for (const s of servers) w.write({ kind: 'run-end', run: s.run, t_ms: 0, ok: true, error: null, detected: null });
  w.write({ kind: 'end', t_ms: 0, ok: true });
  w.close();
  return out;
}
