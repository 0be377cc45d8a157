/**
 * The classic `le` buckets of the scrape page's histograms, and their counts read off the agent's exponential
 * histograms.
 *
 * Each bound is one of the agent's own bucket boundaries, 2^(j / 2^scale) at its scale (DEFAULT_SCALE 4: 16 a
 * doubling), so a count at a bound is exact, not estimated: every exponential bucket lies wholly below or above it.
 * What is left is how Prometheus reads a quantile (`histogram_quantile`): it interpolates linearly inside the classic
 * bucket that holds the rank, anywhere between its bounds, while the agent answers with the geometric middle of its
 * own bucket. With one classic bucket per exponential bucket the two differ by at most half a bucket, 2.2 % (4.4 %
 * where the agent clamps to the largest or smallest value), whatever the spread, spikes included. Two per classic
 * bucket would halve the series but allow 6.7 % (a narrow spike in one half and the rank at the bucket's edge: a
 * fixed delay, or a mixture whose shares put a quantile at the top of one), beyond the 5 % the reader is promised.
 */
import { DEFAULT_SCALE, type ExpHistogramData } from '../../src/vocabulary/index.js';

/**
 * Every `step`-th boundary of the agent's exponential buckets from 2^fromLog2 to 2^toLog2, to 4 significant digits
 * (the label stays short; the rounding, at most 0.05 %, is far inside the half bucket that keeps a count exact).
 */
function ladder(fromLog2: number, toLog2: number, step: number): number[] {
  const perOctave = 2 ** DEFAULT_SCALE;
  const out: number[] = [];
  for (let j = fromLog2 * perOctave; j <= toLog2 * perOctave; j += step) out.push(Number((2 ** (j / perOctave)).toPrecision(4)));
  return out;
}

/**
 * Request duration, seconds: every boundary (4.4 % apart) from 2^-10 s (0.98 ms) to 2^3.375 s (10.4 s), 215 bounds.
 * Below the first, Prometheus interpolates from 0 (a sub-millisecond server's quantiles read as "under 1 ms", its
 * mean from _sum/_count stays exact); above the last it answers the last bound. Each bound is a series per context
 * that served requests: the cost of quantiles within 5 % of the agent's (bench/prometheus-render measures the page).
 */
export const DURATION_BOUNDS: readonly number[] = ladder(-10, 3.375, 1);

/**
 * Event-loop delay (timer lateness), seconds: every eighth boundary (a factor of 1.41) from 2^-10 s to 2^4 s, 29
 * bounds: the lateness that matters is milliseconds to seconds, libuv's timers cannot tell apart less than 1 ms,
 * and a diagnosis needs the order of a stall, not 5 % of it. 1 s is a bound (a stuck loop reads "over a second").
 */
export const LOOP_DELAY_BOUNDS: readonly number[] = ladder(-10, 4, 8);

/**
 * How many values were at or below each bound, from an exponential histogram. A bucket (lower, upper] counts toward
 * `le` when its geometric middle is at or below `le`: exact for a bound on a bucket boundary (the ladders above), and
 * otherwise off only by values within half a bucket of the bound. Always exact at bounds above the largest value or
 * below the smallest. Ascending bounds give non-decreasing counts, none above the total.
 */
export function countsAtBounds(h: ExpHistogramData, bounds: readonly number[]): number[] {
  const step = 2 ** -h.scale;
  let running = h.zero_count;
  let i = 0;
  return bounds.map((le) => {
    while (i < h.counts.length && 2 ** ((h.offset + i + 0.5) * step) <= le) running += h.counts[i++];
    if (h.count === 0 || le < h.min) return 0;
    if (le >= h.max) return h.count;
    return Math.min(running, h.count);
  });
}
