/** Latencies encoded as the generator reports them, so tests of their readers build the very same histograms. */
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { latencyHistogram } from '../../src/load/intervals/interval-stats.js';

/** Latencies (µs) in the generator's histogram (its range and precision), compressed base64. */
export function encodeLatencies(values_us: Iterable<number>): string {
  const h = latencyHistogram();
  for (const v of values_us) h.recordValue(v);
  const out = encodeIntoCompressedBase64(h);
  h.destroy();
  return out;
}
