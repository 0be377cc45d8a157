/**
 * Brings a frame written under an older recording schema to the current one (frames.ts RECORDING_SCHEMA), so every
 * reader past the decoder sees one shape. Called wherever a frame is decoded from a file: iterateRecording (reader.ts)
 * and the replay index (dashboard/state/recording-index.ts).
 *
 * /1 and /2 frames differ from /3 only in units and names (/2 changed how /proc contexts are keyed, which is read
 * alike): the generator, stage, thread-split and backend sums were µs (`*_us`), now ms (`*_ms`), and the context
 * switches were `ctx_voluntary` / `ctx_involuntary`, now `voluntary` / `involuntary`. Histograms are untouched (HDR
 * stays integer µs, exponential histograms stay seconds). Only keys that are there are converted, so a partial
 * frame stays as partial as it was.
 */
import type { Frame } from '../vocabulary/index.js';

type Loose = Record<string, unknown>;

/** The schemas whose frames have µs sums and the old switch names; /3 frames are /4's and /5's (only the member changed). */
const BEFORE_MS = new Set(['srvlens.recording/1', 'srvlens.recording/2']);

/** The frame itself, converted in place when `schema` is older than /3. */
export function upgradeFrame(frame: Frame, schema: string): Frame {
  if (!BEFORE_MS.has(schema)) return frame;
  const f = frame as unknown as Loose;
  const generator = f.generator as Loose | null | undefined;
  if (generator) usToMs(generator, ['sum_total', 'sum_send_wait', 'sum_response', 'sum_connect']);
  const server = f.server as Loose | null | undefined;
  if (server) {
    const stages = server.stages as Record<string, Loose> | undefined;
    if (stages) for (const stage of Object.values(stages)) usToMs(stage, ['sum']);
    const split = server.thread_split as Loose | undefined;
    if (split) usToMs(split, ['on_cpu', 'runqueue', 'blocked']);
  }
  const backend = f.backend as Loose | null | undefined;
  if (backend) usToMs(backend, ['sum_service', 'sum_queue']);
  const contexts = f.contexts as Loose[] | undefined;
  if (Array.isArray(contexts)) {
    for (const c of contexts) {
      rename(c, 'ctx_voluntary', 'voluntary');
      rename(c, 'ctx_involuntary', 'involuntary');
    }
  }
  return frame;
}

/** `<name>_us` (µs) becomes `<name>_ms` (ms) for each name present. */
function usToMs(o: Loose, names: readonly string[]): void {
  for (const name of names) {
    const us = o[`${name}_us`];
    if (us === undefined) continue;
    o[`${name}_ms`] = typeof us === 'number' ? us / 1000 : us;
    delete o[`${name}_us`];
  }
}

function rename(o: Loose, from: string, to: string): void {
  if (!(from in o)) return;
  o[to] = o[from];
  delete o[from];
}
