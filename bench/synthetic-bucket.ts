/**
 * One interval of a pool thread as the agent's ring holds it (agents/node/thread-ring.ts), drawn for the benches
 * that feed the agent's writers without a server: `requests` requests of 1-80 ms split 40/60 between process and
 * downstream, and 20 loop-delay samples under 5 ms, in histograms of the ring's own ranges.
 */
import { DELAY_RANGE, DURATION_RANGE, type BucketData } from '../agents/node/thread-ring.js';
import { ExpHistogram, STAGE, STAGE_COUNT } from '../src/vocabulary/index.js';

export function syntheticBucket(index: number, rnd: () => number, o: { requests: number; joined: number; inFlightMs: number }): BucketData {
  const duration = new ExpHistogram(...DURATION_RANGE);
  const loopDelay = new ExpHistogram(...DELAY_RANGE);
  const stageMs = new Array<number>(STAGE_COUNT).fill(0);
  const stageEntries = new Array<number>(STAGE_COUNT).fill(0);
  for (let r = 0; r < o.requests; r++) {
    const d = 0.001 * 80 ** rnd();
    duration.record(d);
    stageMs[STAGE.process] += d * 400;
    stageMs[STAGE.downstream] += d * 600;
    stageEntries[STAGE.process]++;
    stageEntries[STAGE.downstream]++;
  }
  for (let r = 0; r < 20; r++) loopDelay.record(rnd() * 0.005);
  return { index, ...o, stageMs, stageEntries, duration: duration.toData(), loopDelay: loopDelay.toData(), split: null, exemplars: [] };
}
