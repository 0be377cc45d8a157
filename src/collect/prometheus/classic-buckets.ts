/**
 * A Prometheus classic histogram's buckets (cumulative counts at `le` bounds) as the exponential histogram frames
 * carry, so a report reads a Prometheus range with the code it reads a recording with. Each bucket's count is spread
 * evenly over its range, the assumption histogram_quantile makes when it interpolates inside a bucket; a quantile
 * read back is then histogram_quantile's within half an exponential bucket (2.2 % at scale 4). Counts merge exactly
 * across instances and steps, so a fleet's quantile is over merged buckets, never an average of quantiles.
 */
import { DEFAULT_SCALE, type ExpHistogramData } from '../../vocabulary/index.js';

/** The first bucket runs from 0; spread from this fraction of its bound up, the rest (values near 0) in zero_count. */
const FIRST_BUCKET_FLOOR = 1 / 1024;

/** Cumulative counts by bound, +Inf included, as one interval's increase. */
export interface ClassicBuckets {
  /** Ascending bounds; the last is Infinity. */
  le: number[];
  cumulative: number[];
  sum: number;
}

export function classicToExp(b: ClassicBuckets, scale = DEFAULT_SCALE): ExpHistogramData {
  const base = 2 ** (2 ** -scale);
  const indexOf = (v: number) => Math.ceil(Math.log2(v) * 2 ** scale) - 1;
  const byIndex = new Map<number, number>();
  let zero = 0;
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  let below = 0;
  for (let i = 0; i < b.le.length; i++) {
    const c = Math.max(0, b.cumulative[i] - below);
    below = Math.max(below, b.cumulative[i]);
    if (c === 0) continue;
    count += c;
    const hi = b.le[i];
    let lo = i === 0 ? 0 : b.le[i - 1];
    if (hi === Infinity) {
      // Past the largest bound nothing says where: at that bound, as histogram_quantile answers.
      const j = indexOf(lo * (1 + 1e-9));
      byIndex.set(j, (byIndex.get(j) ?? 0) + c);
      min = Math.min(min, lo);
      max = Math.max(max, lo);
      continue;
    }
    // Evenly spread: the same count per second of the bucket's range.
    const density = c / (hi - lo);
    if (lo === 0) {
      lo = hi * FIRST_BUCKET_FLOOR;
      zero += density * lo;
    }
    for (let j = indexOf(lo * (1 + 1e-12)); j <= indexOf(hi); j++) {
      const from = Math.max(lo, base ** j);
      const to = Math.min(hi, base ** (j + 1));
      if (to > from) byIndex.set(j, (byIndex.get(j) ?? 0) + density * (to - from));
    }
    min = Math.min(min, lo);
    max = Math.max(max, hi);
  }
  if (count === 0) return { scale, zero_threshold: 0, zero_count: 0, offset: 0, counts: [], count: 0, sum: 0, min: 0, max: 0 };
  const keys = [...byIndex.keys()];
  const offset = keys.length ? Math.min(...keys) : 0;
  const counts = new Array<number>(keys.length ? Math.max(...keys) - offset + 1 : 0).fill(0);
  for (const [k, c] of byIndex) counts[k - offset] = c;
  return { scale, zero_threshold: 0, zero_count: zero, offset, counts, count, sum: b.sum, min: zero > 0 ? 0 : min, max };
}
