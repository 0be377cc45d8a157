/** How the generator hands each interval's report (the vocabulary's GeneratorInterval) to its caller. */
import type { GeneratorInterval } from '../../vocabulary/frames.js';

/** Called once per interval, in index order; `t_ms` is the interval's start on the shared clock. */
export type IntervalCallback = (index: number, t_ms: number, data: GeneratorInterval) => void;
