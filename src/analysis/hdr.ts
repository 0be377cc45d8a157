/** Merging and reading the generator's HDR histograms (µs), decoded from their compressed base64 form. */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
}

/** Merges encoded histograms and reads percentiles from the merge (never an average of percentiles). */
export function summariseHdr(encoded: readonly string[]): LatencySummary | null {
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
  if (merged === null || merged.totalCount === 0) return null;
  const out = {
    count: merged.totalCount,
    p50_us: merged.getValueAtPercentile(50),
    p90_us: merged.getValueAtPercentile(90),
    p99_us: merged.getValueAtPercentile(99),
    max_us: merged.maxValue,
  };
  merged.destroy();
  return out;
}
