/** One finished interval as the agent exports it: the hot path's sums plus the process's own counters. */
import type { ExpHistogramData } from '../../src/model/index.js';
import type { ProcessSample } from './process-sampler.js';

export interface IntervalRecord {
  index: number;
  /** Interval bounds as Unix epoch ms in this process's mapping of the shared monotonic clock. */
  startEpochMs: number;
  endEpochMs: number;
  requests: number;
  joined: number;
  stageMs: number[];
  stageEntries: number[];
  duration: ExpHistogramData;
  process: ProcessSample;
  loopDelay: ExpHistogramData;
  loopUtilization: number;
  dropped: number;
  errors: number;
}
