/**
 * What the hot path adds into during one interval: plain numbers and typed arrays, allocated once and reused.
 */
import { ExpHistogram, STAGE_COUNT } from '../../src/model/index.js';

export class IntervalAccumulator {
  /** Interval index on the shared clock this accumulator currently holds. */
  index = -1;
  requests = 0;
  joined = 0;
  /** Per stage: summed milliseconds, and entries (how often the stage was entered). */
  readonly stageMs = new Float64Array(STAGE_COUNT);
  readonly stageEntries = new Float64Array(STAGE_COUNT);
  /** Handler start to response finish, seconds (the unit of http.server.request.duration). */
  readonly duration = new ExpHistogram(1e-7, 1e4);

  reset(index: number): void {
    this.index = index;
    this.requests = 0;
    this.joined = 0;
    this.stageMs.fill(0);
    this.stageEntries.fill(0);
    this.duration.reset();
  }
}
