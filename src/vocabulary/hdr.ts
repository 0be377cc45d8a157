/**
 * The one home of HDR histogram merging: the generator's histograms (µs) cross threads and processes encoded as
 * compressed base64, and every reader (thread merge, per-phase figures, capacity verdicts) adds them here, bucket by
 * bucket, so percentiles are read from the merge and never averaged.
 */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
}

/** The encoded histograms added into one (empty strings skipped), or null when there are none; the caller destroys it. */
export function mergeHistograms(encoded: readonly string[]): hdr.Histogram | null {
  let merged: hdr.Histogram | null = null;
  for (const e of encoded) {
    if (!e) continue;
    const h = hdr.decodeFromCompressedBase64(e);
    if (merged === null) merged = h;
    else {
      merged.add(h);
      h.destroy();
    }
  }
  return merged;
}

/** The encoded histograms added and encoded again; a single one is passed through as it is. */
export function mergeHdr(encoded: readonly string[]): string {
  if (encoded.length === 1) return encoded[0];
  const merged = mergeHistograms(encoded);
  if (merged === null) return '';
  const out = hdr.encodeIntoCompressedBase64(merged);
  merged.destroy();
  return out;
}

/** Runs `read` on the merge of the encoded histograms, or returns null when they hold no value. */
export function readMerged<T>(encoded: readonly string[], read: (h: hdr.Histogram) => T): T | null {
  const merged = mergeHistograms(encoded);
  if (merged === null) return null;
  try {
    return merged.totalCount === 0 ? null : read(merged);
  } finally {
    merged.destroy();
  }
}

/** Percentiles of the merged histograms (never an average of percentiles), or null when they hold no value. */
export function summariseHdr(encoded: readonly string[]): LatencySummary | null {
  return readMerged(encoded, (h) => ({
    count: h.totalCount,
    p50_us: h.getValueAtPercentile(50),
    p90_us: h.getValueAtPercentile(90),
    p99_us: h.getValueAtPercentile(99),
    max_us: h.maxValue,
  }));
}
