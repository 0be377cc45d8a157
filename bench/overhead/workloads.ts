/**
 * What the overhead bench's servers do per request: the reference servers' workloads (src/servers/workload/workload.ts) and
 * the plain app's (plain-app.ts). JSON-ready as they are: the report's `params`.
 */
import { DEFAULT_WORKLOAD, type WorkloadParams } from '../../src/vocabulary/workload-params.js';

/** The plain app's: one outgoing GET per request to the upstream through `client`, then a `response_bytes` answer. */
export interface PlainAppWorkload {
  client: 'http' | 'fetch';
  response_bytes: number;
}

export type BenchWorkload = WorkloadParams | PlainAppWorkload;

export const isPlainApp = (w: BenchWorkload): w is PlainAppWorkload => 'client' in w;

export const WORKLOADS = {
  // No CPU stage, no backend, a small body: the per-request overhead is the largest share of each request here.
  hello: { parse_us: 0, process_us: 0, transform_us: 0, backend_calls: 0, response_bytes: 64 },
  default: { ...DEFAULT_WORKLOAD },
  // node:http with a keep-alive http.Agent: what most Node HTTP clients (axios, got, node-fetch) sit on.
  http: { client: 'http', response_bytes: 64 },
  // The global fetch: undici, with its own keep-alive pool.
  fetch: { client: 'fetch', response_bytes: 64 },
} as const satisfies Record<string, BenchWorkload>;

export type WorkloadId = keyof typeof WORKLOADS;
export const WORKLOAD_IDS = Object.keys(WORKLOADS) as WorkloadId[];

/**
 * The plain app's upstream (plain-upstream.ts), one process for the whole run: a 1 ms answer keeps every request's
 * downstream part clearly above the agent's check (half of it), while the upstream stays cheap beside the app.
 */
export const UPSTREAM = { delayMs: 1, bytes: 128 } as const;
/** Where plain-upstream.ts reads UPSTREAM, as JSON. */
export const UPSTREAM_CONFIG_ENV = 'PLAIN_UPSTREAM_CONFIG';
