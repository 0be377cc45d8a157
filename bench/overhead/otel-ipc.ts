/**
 * What the overhead bench asks its OpenTelemetry preload over IPC, and the answer. A module of its own because
 * importing the preload would start an SDK in whoever imports it.
 */
export const OTEL_SPANS_QUERY = 'otel-spans?';

export interface OtelSpanReport {
  type: 'otel-spans';
  /** Spans handed to the exporter so far, after flushing what the batch processor held. */
  exported: number;
  /** Of those, the SERVER spans (one per request node:http served) and the CLIENT spans (one per node:http call). */
  server: number;
  client: number;
  /** True when node:http's Server.prototype.emit carries the instrumentation's wrapper. */
  patched: boolean;
}
