/**
 * The per-request work every reference model performs (ARCHITECTURE section 5), and its defaults: the scenario
 * schema fills a missing field with them, and a server started without a scenario runs them.
 */
export interface WorkloadParams {
  /** CPU burnt by each stage, µs. */
  parse_us: number;
  process_us: number;
  transform_us: number;
  /** Sequential calls to the backend per request. */
  backend_calls: number;
  /** Size of the HTTP response body, bytes. */
  response_bytes: number;
}

/** A small JSON API request: a little parsing, most CPU in the handler's logic, one database query. */
export const DEFAULT_WORKLOAD: Readonly<WorkloadParams> = {
  parse_us: 50,
  process_us: 500,
  transform_us: 100,
  backend_calls: 1,
  response_bytes: 1024,
};
