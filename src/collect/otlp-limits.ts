/**
 * What the collector takes from one OTLP export, and the error that turns anything else into a 4xx with a reason.
 * The collector listens for any process on the host (or beyond, with a token), so a body is input, not trusted:
 * each bound below keeps a malformed or hostile export from costing more than the export it refuses.
 */

/** A compressed or inflated body: an agent's export of 64 threads is a few hundred KB. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Data points (metrics) or spans in one export: an agent sends ~30 a thread each interval. */
export const MAX_ITEMS_PER_EXPORT = 100_000;
/**
 * Intervals of data before now that are still taken: an agent that buffered through a collector outage sends its
 * backlog late. Later than now by more than a few intervals is a clock that is off, or an export made up.
 */
export const PAST_INTERVALS = 600;
export const FUTURE_INTERVALS = 5;
/** Exponential histograms: OTel's scales run from -10 to 20; ours carry a few hundred buckets. */
export const MIN_SCALE = -10;
export const MAX_SCALE = 20;
export const MAX_HISTOGRAM_BUCKETS = 16_384;

/** An export the collector refuses: `status` is the HTTP status it answers with, `message` the reason. */
export class OtlpRejected extends Error {
  override name = 'OtlpRejected';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Every number of an export: a JSON number, or a string holding one (OTLP JSON sends 64-bit integers as strings);
 * absent is 0. Anything else (`"fast"`, an object, a string of digits past a double) is refused, not read as NaN.
 */
export function otlpNumber(v: unknown, what = 'a number field'): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new OtlpRejected(400, `${what}: expected a number, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return n;
}

/** A list field of an export: absent is empty; anything else than a list is refused. */
export function otlpList(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpRejected(400, `${what}: expected a list, got ${kindOf(v)}`);
  return v;
}

/** A list of messages (resourceMetrics, spans, attributes...): each one a mapping. */
export function otlpMessages(v: unknown, what: string): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const list = otlpList(v, what);
  for (const item of list) otlpMessage(item, `${what}[]`);
  return list as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One message of an export, the export itself included: a mapping, not a list or a value. */
export function otlpMessage(v: unknown, what: string): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new OtlpRejected(400, `${what}: expected a mapping, got ${kindOf(v)}`);
}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v;
}
