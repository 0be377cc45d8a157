import { describe, expect, it } from 'vitest';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { mergeIntervals } from '../../src/load/intervals/merge-intervals.js';
import type { GeneratorInterval } from '../../src/vocabulary/frames.js';
import { syntheticInterval } from '../analysis/synthetic-frames.js';
import { seeded } from '../analysis/synthetic-windows.js';

const count = (hdr: string) => {
  const h = decodeFromCompressedBase64(hdr);
  const n = h.totalCount;
  h.destroy();
  return n;
};

/** One interval as `threads` generator threads would each report it, from `seed`. */
function threadReports(seed: number, threads: number): { thread: number; data: GeneratorInterval }[] {
  const r = seeded(seed);
  return Array.from({ length: threads }, (_, thread) => ({ thread, data: syntheticInterval(r, 3, 20 + Math.floor(r() * 80)).frame.generator! }));
}

describe('mergeIntervals', () => {
  it.each([3, 30, 300])('adds the threads\' counts, sums and histograms, and keeps the worst lag (seed %i)', (seed) => {
    const parts = threadReports(seed, 3).map((p, i) => ({ ...p, data: { ...p.data, loop_lag_max_ms: [4, 17, 9][i], target_rps: 0.1 } }));
    const got = mergeIntervals(parts);
    const total = (k: 'completed' | 'sum_total_ms' | 'sum_response_ms' | 'cpu_ms') => parts.reduce((t, p) => t + p.data[k], 0);
    expect(got.completed).toBe(total('completed'));
    expect(got.sum_total_ms).toBe(total('sum_total_ms'));
    expect(got.sum_response_ms).toBe(total('sum_response_ms'));
    expect(got.cpu_ms).toBe(total('cpu_ms'));
    // Three shares of 0.1 req/s add back to the rate as written, not to 0.30000000000000004.
    expect(got.target_rps).toBe(0.3);
    expect(count(got.latency_hdr)).toBe(total('completed'));
    expect(count(got.uncorrected_hdr)).toBe(total('completed'));
    expect(got.loop_lag_max_ms).toBe(17);
    expect(got.threads).toBe(3);
    expect(got).toMatchObject({ phase: parts[0].data.phase, phase_index: parts[0].data.phase_index });
  });

  it('flags the interval when one thread could not keep up, naming the thread in its reasons', () => {
    const parts = threadReports(5, 2);
    parts[1] = { thread: 1, data: { ...parts[1].data, saturated: true, saturation: ['generator loop lag 40 ms'], send_late_max_ms: 12 } };
    const got = mergeIntervals(parts);
    expect(got).toMatchObject({ saturated: true, saturation: ['thread 1: generator loop lag 40 ms'], send_late_max_ms: 12 });
    const calm = mergeIntervals(threadReports(5, 2));
    expect(calm).toMatchObject({ saturated: false, saturation: [] });
    expect(calm.send_late_max_ms).toBeUndefined();
  });

  it('merges the optional parts where the threads report them: connects, slow clients, the mix by entry', () => {
    const parts = threadReports(8, 2).map((p, i) => ({
      ...p,
      data: {
        ...p.data,
        connects: 10 + i, sum_connect_ms: 1 * (i + 1), connect_hdr: p.data.latency_hdr,
        slow: { open: 2, completed: 5 + i, errors: i },
        mix: [
          { name: 'a', sent: 3, completed: 3, errors: 0, latency_hdr: p.data.latency_hdr },
          { name: 'b', sent: 4 + i, completed: 4, errors: 1, latency_hdr: p.data.uncorrected_hdr },
        ],
      },
    }));
    const got = mergeIntervals(parts);
    expect(got).toMatchObject({ connects: 21, sum_connect_ms: 3, slow: { open: 4, completed: 11, errors: 1 } });
    expect(count(got.connect_hdr!)).toBe(parts[0].data.completed + parts[1].data.completed);
    expect(got.mix!.map(({ latency_hdr, ...m }) => ({ ...m, latencies: count(latency_hdr) }))).toEqual([
      { name: 'a', sent: 6, completed: 6, errors: 0, latencies: parts[0].data.completed + parts[1].data.completed },
      { name: 'b', sent: 9, completed: 8, errors: 2, latencies: parts[0].data.completed + parts[1].data.completed },
    ]);
    const plain = mergeIntervals(threadReports(8, 2));
    expect(plain.connects).toBeUndefined();
    expect(plain.mix).toBeUndefined();
  });
});
