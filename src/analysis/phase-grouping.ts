/**
 * How a run's frames split into the scenario's phases, for the report (phasesOf) and the dashboard's phase spans
 * alike, so both show the same phase boundaries. A phase is one entry of the scenario's list: its name and its
 * index together, since two phases in a row may share a name (a step repeated at another rate).
 */
import { DRAIN_PHASE, type Frame, type GeneratorInterval } from '../vocabulary/index.js';

/**
 * Whether an interval belongs to the phase before it: the same phase, or the drain after the last phase (its
 * responses answer that phase's requests), or an interval the generator did not report on.
 */
export function continuesPhase(last: { name: string; index: number }, g: Pick<GeneratorInterval, 'phase' | 'phase_index'> | null): boolean {
  return !g || g.phase === DRAIN_PHASE || (g.phase === last.name && g.phase_index === last.index);
}

/**
 * Groups a run's frames by phase, in order. The drain intervals after the last phase join it. Frames without a
 * generator report are left out, and so are warm-up intervals: they run load but are no part of any figure.
 */
export function phasesOf(frames: readonly Frame[]): { name: string; index: number; frames: Frame[] }[] {
  const out: { name: string; index: number; frames: Frame[] }[] = [];
  for (const f of frames) {
    const g = f.generator;
    if (!g || g.warmup) continue;
    const last = out[out.length - 1];
    if (last && continuesPhase(last, g)) last.frames.push(f);
    else out.push({ name: g.phase, index: g.phase_index, frames: [f] });
  }
  return out;
}
