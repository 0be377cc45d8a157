/**
 * Merges the reports of several generator threads for one interval into one: counts and sums add, histograms are
 * added bucket by bucket (percentiles are read from the merge later, never averaged), the worst lag wins, and a
 * thread that could not keep up flags the whole interval.
 */
import { mergeHdr } from '../../vocabulary/hdr.js';
import type { GeneratorInterval, MixInterval } from '../../vocabulary/frames.js';

const ADDITIVE = [
  'target_rps', 'due', 'sent', 'completed', 'errors', 'sum_total_ms', 'sum_send_wait_ms', 'sum_response_ms',
  'backlog', 'in_flight', 'connections', 'cpu_ms',
] as const;

const OPTIONAL_ADDITIVE = ['users', 'connects', 'sum_connect_ms', 'idle_open'] as const;

/** One interval's reports from several threads (each thread's `threadIndex` given for its saturation reasons). */
export function mergeIntervals(parts: readonly { thread: number; data: GeneratorInterval }[]): GeneratorInterval {
  const list = parts.map((p) => p.data);
  const out: GeneratorInterval = { ...list[0] };
  for (const k of ADDITIVE) out[k] = list.reduce((a, d) => a + d[k], 0);
  for (const k of OPTIONAL_ADDITIVE) if (list[0][k] !== undefined) out[k] = list.reduce((a, d) => a + (d[k] ?? 0), 0);
  // Each thread reports a count-th of the rate; floating-point shares should add back to the rate as written.
  out.target_rps = Math.round(out.target_rps * 1e6) / 1e6;
  out.latency_hdr = mergeHdr(list.map((d) => d.latency_hdr));
  out.uncorrected_hdr = mergeHdr(list.map((d) => d.uncorrected_hdr));
  if (list[0].connect_hdr !== undefined) out.connect_hdr = mergeHdr(list.flatMap((d) => (d.connect_hdr ? [d.connect_hdr] : [])));
  out.loop_lag_max_ms = Math.max(...list.map((d) => d.loop_lag_max_ms));
  const late = Math.max(0, ...list.map((d) => d.send_late_max_ms ?? 0));
  if (late > 0) out.send_late_max_ms = late;
  else delete out.send_late_max_ms;
  out.saturation = parts.flatMap((p) => p.data.saturation.map((r) => `thread ${p.thread}: ${r}`));
  out.saturated = list.some((d) => d.saturated);
  if (list[0].slow) {
    out.slow = { open: 0, completed: 0, errors: 0 };
    for (const d of list) for (const k of ['open', 'completed', 'errors'] as const) out.slow[k] += d.slow?.[k] ?? 0;
  }
  if (list[0].mix) out.mix = list[0].mix.map((m, i) => mergeMix(list.map((d) => d.mix![i])));
  out.threads = list.length;
  return out;
}

function mergeMix(entries: readonly MixInterval[]): MixInterval {
  return {
    name: entries[0].name,
    sent: entries.reduce((a, m) => a + m.sent, 0),
    completed: entries.reduce((a, m) => a + m.completed, 0),
    errors: entries.reduce((a, m) => a + m.errors, 0),
    latency_hdr: mergeHdr(entries.map((m) => m.latency_hdr)),
  };
}
