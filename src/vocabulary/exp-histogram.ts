/**
 * A mergeable histogram with OpenTelemetry's exponential bucket layout (base = 2^(2^-scale)), so that what an
 * agent records crosses OTLP unchanged and merges exactly across threads, processes and intervals.
 *
 * Recording is allocation-free: one log2, one array increment. At scale 4 a bucket is 4.4 % wide, so a quantile
 * read from it is within 2.2 % of the exact one (tested against exact quantiles).
 */

/** The serialised form carried in OTLP-derived frames. Values are in the unit the recorder chose (seconds here). */
export interface ExpHistogramData {
  scale: number;
  zero_threshold: number;
  zero_count: number;
  /** Index of counts[0]: bucket i holds values in (base^i, base^(i+1)]. */
  offset: number;
  counts: number[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

export const DEFAULT_SCALE = 4;

/** Scalars kept at the head of a histogram's storage, before the bucket counts. */
const ZERO = 0;
const COUNT = 1;
const SUM = 2;
const MIN = 3;
const MAX = 4;
const HEAD = 5;

/**
 * The recorder. Its whole state is one Float64Array (scalars, then bucket counts), so it can live in a
 * SharedArrayBuffer that another thread reads: `ExpHistogram.slots(...)` says how many doubles it needs.
 */
export class ExpHistogram {
  readonly scale: number;
  readonly zeroThreshold: number;
  private readonly factor: number;
  private readonly lowIndex: number;
  private readonly buckets: number;
  private readonly a: Float64Array;

  /**
   * Values at or below `lowest` count as zero; values above `highest` go to the last bucket (max stays exact).
   * `storage`, when given, must hold `ExpHistogram.slots(lowest, highest, scale)` doubles.
   */
  constructor(lowest = 1e-7, highest = 1e4, scale = DEFAULT_SCALE, storage?: Float64Array) {
    this.scale = scale;
    this.zeroThreshold = lowest;
    this.factor = 2 ** scale;
    this.lowIndex = this.indexOf(lowest);
    this.buckets = this.indexOf(highest) - this.lowIndex + 1;
    this.a = storage ?? new Float64Array(HEAD + this.buckets);
    if (this.a.length < HEAD + this.buckets) throw new RangeError('histogram storage too small');
    if (!storage) this.reset();
  }

  static slots(lowest = 1e-7, highest = 1e4, scale = DEFAULT_SCALE): number {
    const f = 2 ** scale;
    const idx = (v: number) => Math.ceil(Math.log2(v) * f) - 1;
    return HEAD + idx(highest) - idx(lowest) + 1;
  }

  indexOf(value: number): number {
    return Math.ceil(Math.log2(value) * this.factor) - 1;
  }

  get count(): number {
    return this.a[COUNT];
  }

  record(value: number): void {
    const a = this.a;
    a[COUNT]++;
    a[SUM] += value;
    if (value < a[MIN]) a[MIN] = value;
    if (value > a[MAX]) a[MAX] = value;
    if (value <= this.zeroThreshold) {
      a[ZERO]++;
      return;
    }
    let i = this.indexOf(value) - this.lowIndex;
    if (i >= this.buckets) i = this.buckets - 1;
    a[HEAD + i]++;
  }

  reset(): void {
    this.a.fill(0, 0, HEAD + this.buckets);
    this.a[MIN] = Infinity;
    this.a[MAX] = -Infinity;
  }

  /** Copies the non-empty span of buckets out; the recorder keeps going. */
  toData(): ExpHistogramData {
    const a = this.a;
    let first = -1;
    let last = -1;
    for (let i = 0; i < this.buckets; i++) {
      if (a[HEAD + i] !== 0) {
        if (first < 0) first = i;
        last = i;
      }
    }
    const counts = first < 0 ? [] : Array.from(a.subarray(HEAD + first, HEAD + last + 1));
    const count = a[COUNT];
    return {
      scale: this.scale,
      zero_threshold: this.zeroThreshold,
      zero_count: a[ZERO],
      offset: first < 0 ? 0 : first + this.lowIndex,
      counts,
      count,
      sum: a[SUM],
      min: count ? a[MIN] : 0,
      max: count ? a[MAX] : 0,
    };
  }
}

export function emptyExpHistogram(scale = DEFAULT_SCALE): ExpHistogramData {
  return { scale, zero_threshold: 0, zero_count: 0, offset: 0, counts: [], count: 0, sum: 0, min: 0, max: 0 };
}

/** Lowers a histogram's scale (each step halves the resolution), as OTel does when merging different scales. */
function downscale(h: ExpHistogramData, scale: number): ExpHistogramData {
  if (h.scale === scale) return h;
  const shift = h.scale - scale;
  const byIndex = new Map<number, number>();
  h.counts.forEach((c, i) => {
    if (c === 0) return;
    const j = Math.floor((h.offset + i) / 2 ** shift);
    byIndex.set(j, (byIndex.get(j) ?? 0) + c);
  });
  return rebuild(h, scale, byIndex);
}

/**
 * Most buckets a merged histogram holds: ~100x what 1e-7..1e4 ms takes at the default scale. Histograms read from
 * the wire can be anywhere (offsets 2^20 apart at scale 20); past this the merge lowers the scale, as OTel's
 * max_size does, instead of allocating gigabytes.
 */
const MAX_MERGED_BUCKETS = 1 << 16;

function rebuild(h: ExpHistogramData, scale: number, byIndex: Map<number, number>): ExpHistogramData {
  if (byIndex.size === 0) return { ...h, scale, offset: 0, counts: [] };
  // A loop, not Math.min(...keys): a spread of 10^5 keys overflows the stack.
  let lo = Infinity;
  let hi = -Infinity;
  for (const k of byIndex.keys()) {
    lo = Math.min(lo, k);
    hi = Math.max(hi, k);
  }
  if (hi - lo + 1 > MAX_MERGED_BUCKETS) {
    const coarser = new Map<number, number>();
    for (const [k, c] of byIndex) coarser.set(Math.floor(k / 2), (coarser.get(Math.floor(k / 2)) ?? 0) + c);
    return rebuild(h, scale - 1, coarser);
  }
  const counts = new Array<number>(hi - lo + 1).fill(0);
  for (const [k, c] of byIndex) counts[k - lo] = c;
  return { ...h, scale, offset: lo, counts };
}

/** Merges histograms exactly (after bringing them to the coarsest scale among them). */
export function mergeExpHistograms(list: readonly ExpHistogramData[]): ExpHistogramData {
  const present = list.filter((h) => h.count > 0);
  if (present.length === 0) return emptyExpHistogram(list[0]?.scale ?? DEFAULT_SCALE);
  const scale = Math.min(...present.map((h) => h.scale));
  const byIndex = new Map<number, number>();
  let zeroCount = 0;
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let zeroThreshold = 0;
  for (const raw of present) {
    const h = downscale(raw, scale);
    h.counts.forEach((c, i) => {
      if (c !== 0) byIndex.set(h.offset + i, (byIndex.get(h.offset + i) ?? 0) + c);
    });
    zeroCount += h.zero_count;
    count += h.count;
    sum += h.sum;
    min = Math.min(min, h.min);
    max = Math.max(max, h.max);
    zeroThreshold = Math.max(zeroThreshold, h.zero_threshold);
  }
  return rebuild(
    { scale, zero_threshold: zeroThreshold, zero_count: zeroCount, offset: 0, counts: [], count, sum, min, max },
    scale,
    byIndex,
  );
}

/**
 * The q-quantile (0..1): the geometric middle of the bucket that holds it, clamped to [min, max].
 * Returns null for an empty histogram: no data is not zero.
 */
export function expQuantile(h: ExpHistogramData, q: number): number | null {
  if (h.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * h.count));
  // Counts are whole numbers except where classic buckets were spread over exponential ones (classic-buckets.ts):
  // those fractions sum with rounding error, and 858.9999999999995 must reach rank 859, or the quantile jumps to the
  // next bucket that holds anything. For whole counts the tolerance changes nothing.
  const reached = rank * (1 - 1e-9);
  let seen = h.zero_count;
  if (seen >= reached) return Math.min(h.max, Math.max(h.min, 0));
  const base = 2 ** (2 ** -h.scale);
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i];
    if (seen >= reached) {
      const lower = base ** (h.offset + i);
      const mid = lower * Math.sqrt(base);
      return Math.min(h.max, Math.max(h.min, mid));
    }
  }
  return h.max;
}
