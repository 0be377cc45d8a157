/**
 * Service-level objectives: the latency percentiles and the error rate a server must stay within to count as
 * "sustaining" a load. Written in a scenario as a mapping (`slo: { p99_ms: 100, max_error_rate: 0.01 }`) or as
 * the same text `srvlens capacity --slo` takes (`"p99<100ms, errors<1%"`); both become the mapping.
 */
import { z } from 'zod';
import { DEFAULT_MAX_ERROR_RATE, SLO_LABELS, SLO_LATENCY_KEYS, type Slo, type SloLatencyKey } from '../vocabulary/slo.js';

const SLO_EXAMPLE = '"p99<100ms, errors<1%"';
const LATENCY_LIMIT = 'expected a latency limit greater than 0, ms';
const latency = (p: string) => z.number({ error: LATENCY_LIMIT }).gt(0, { error: LATENCY_LIMIT }).optional().describe(`The ${p} latency must stay below this, ms`);

const SloObject = z
  .strictObject({
    p50_ms: latency('median (p50)'),
    p90_ms: latency('p90'),
    p99_ms: latency('p99'),
    p999_ms: latency('p99.9'),
    max_ms: latency('largest (max)'),
    max_error_rate: z
      .number({ error: 'expected a share from 0 to 1' })
      .min(0, { error: 'expected a share from 0 to 1' })
      .max(1, { error: 'expected a share from 0 to 1' })
      .default(DEFAULT_MAX_ERROR_RATE)
      .describe(`Largest share of requests that may fail: errors, timeouts, non-2xx (default ${DEFAULT_MAX_ERROR_RATE})`),
  })
  .refine((s) => SLO_LATENCY_KEYS.some((k) => s[k] !== undefined), {
    error: `expected at least one latency limit: ${SLO_LATENCY_KEYS.join(', ')}`,
    // A misspelt key is the mistake to report; "no latency limit" would only be its echo.
    when: (payload) => payload.issues.length === 0,
  });

const SloText = z
  .string()
  .describe(`Latency limits and an error rate as text, such as ${SLO_EXAMPLE}; terms joined by "," or "and"`)
  .transform((text, ctx) => {
    const parsed = parseSloText(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: `expected an SLO such as ${SLO_EXAMPLE} (${parsed})` });
      return z.NEVER;
    }
    return parsed;
  });

export const SloSchema = z
  .union([SloText, SloObject], { error: `expected an SLO: text such as ${SLO_EXAMPLE} or a mapping such as {p99_ms: 100, max_error_rate: 0.01}` })
  .describe(`Service-level objective: text such as ${SLO_EXAMPLE}, or a mapping of p50_ms, p90_ms, p99_ms, p999_ms, max_ms and max_error_rate (default ${DEFAULT_MAX_ERROR_RATE})`);

const TERM = /^(p50|p90|p99|p99\.9|p999|max|errors?)\s*(<=|<|≤)\s*([0-9]*\.?[0-9]+)\s*(us|µs|ms|s|%)?$/i;
const UNIT_MS: Record<string, number> = { us: 0.001, 'µs': 0.001, ms: 1, s: 1000 };
/** Each label the text may use, to its key; `p999` is also read, as the mapping's key spells it. */
const KEY_OF: Record<string, SloLatencyKey> = { ...Object.fromEntries(SLO_LATENCY_KEYS.map((k) => [SLO_LABELS[k], k])), p999: 'p999_ms' };

/** `"p99<100ms, errors<1%"` (terms joined by "," or "and") as an Slo, or a reason it is not one. */
export function parseSloText(text: string): Slo | string {
  const slo: Slo = { max_error_rate: DEFAULT_MAX_ERROR_RATE };
  const terms = text.split(/,|\band\b/i).map((t) => t.trim()).filter((t) => t !== '');
  if (terms.length === 0) return 'it is empty';
  let latencies = 0;
  for (const term of terms) {
    const m = TERM.exec(term);
    if (!m) return terms.length > 1 ? `cannot read "${term}"` : 'each term is p50, p90, p99, p99.9, max or errors, then "<" and a limit';
    const [, what, , num, unit] = m;
    const value = Number(num);
    if (/^errors?$/i.test(what)) {
      const share = unit === '%' ? value / 100 : unit === undefined ? value : NaN;
      if (!(share >= 0 && share <= 1)) return `"${term}": an error rate is a percentage or a share from 0 to 1`;
      slo.max_error_rate = share;
      continue;
    }
    const scale = unit === undefined ? undefined : UNIT_MS[unit.toLowerCase()];
    if (scale === undefined) return `"${term}": give the latency a unit (us, ms or s)`;
    if (!(value > 0)) return `"${term}": a latency limit must be greater than 0`;
    slo[KEY_OF[what.toLowerCase()]] = value * scale;
    latencies++;
  }
  return latencies > 0 ? slo : 'it needs at least one latency limit, such as p99<100ms';
}
