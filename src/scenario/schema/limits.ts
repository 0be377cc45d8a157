/**
 * The most a scenario may ask for, one constant a quantity. A scenario is a file anyone can hand over; these keep a
 * typo or a hostile file (rate: 1e308, duration_s: 1e9, response_bytes: 2**53) from becoming a run that cannot end,
 * an allocation that kills the host, or a schedule of more arrivals than memory holds. Each is well past what one
 * machine can do, so no honest scenario meets it; the schema names them (schemas/scenario.schema.json).
 */

/** Connections the generator keeps open, users, slow clients: past the fds one process gets (ulimit -n). */
export const MAX_CONNECTIONS = 100_000;
/** Requests per second of any phase: 1M is ~25x the 40k req/s a hello-world node:http server does on 2 cores. */
export const MAX_RATE_RPS = 1_000_000;
/** Length of a phase, warm-up, step, probe or capacity search: one day. */
export const MAX_DURATION_S = 86_400;
/** A response body: 64 MiB, which every model builds in memory once per request. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** CPU time of one stage of one request, µs: 10 s. */
export const MAX_STAGE_US = 10_000_000;
/** Backend calls per request. */
export const MAX_BACKEND_CALLS = 1000;
/** A time in ms (request timeout, think time, backend service time, trickle): one hour. */
export const MAX_MS = 3_600_000;
/** Threads, processes or loops of a reference model: each a V8 isolate or a process of tens of MB. */
export const MAX_MODEL_SIZE = 1024;
/** Calls the backend tier serves at once. */
export const MAX_BACKEND_LIMIT = 100_000;
