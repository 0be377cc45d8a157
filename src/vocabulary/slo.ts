/**
 * A service-level objective as the verdicts read it: latency limits by percentile and an error rate. The scenario
 * reads and checks it (src/scenario/slo.ts); analysis judges runs against it.
 */
/** The percentile each latency key stands for (max: the largest latency seen). */
export const SLO_PERCENTILES = { p50_ms: 50, p90_ms: 90, p99_ms: 99, p999_ms: 99.9, max_ms: 100 } as const;
export type SloLatencyKey = keyof typeof SLO_PERCENTILES;
export const SLO_LATENCY_KEYS = Object.keys(SLO_PERCENTILES) as SloLatencyKey[];
/** How each latency key is written in SLO text and in verdicts (`p99<100ms`). */
export const SLO_LABELS: Record<SloLatencyKey, string> = { p50_ms: 'p50', p90_ms: 'p90', p99_ms: 'p99', p999_ms: 'p99.9', max_ms: 'max' };

/** Share of failed requests (errors of any kind over requests due) allowed when an SLO does not say (1 %). */
export const DEFAULT_MAX_ERROR_RATE = 0.01;

export type Slo = Partial<Record<SloLatencyKey, number>> & { max_error_rate: number };

/** The SLO as text, the form parseSloText reads: `p99<100ms, errors<1%`. */
export function formatSlo(slo: Slo): string {
  const terms = SLO_LATENCY_KEYS.filter((k) => slo[k] !== undefined).map((k) => `${SLO_LABELS[k]}<${slo[k]}ms`);
  terms.push(`errors<${Number((slo.max_error_rate * 100).toPrecision(6))}%`);
  return terms.join(', ');
}
