/** The recorded fixtures and ways to derive variants of their frames for the cases a recording did not catch. */
import { copyFileSync, mkdtempSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, RunStart } from '../../src/vocabulary/index.js';
import { readRecording } from '../../src/recording/reader.js';

/** Three event-loop servers (lean, cpu-heavy, chatty), phases warm and busy; recorded by `srvlens run` (see the .yaml). */
export const THREE_LOOPS = join(import.meta.dirname, 'fixtures/three-loops.srvlens.gz');

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
