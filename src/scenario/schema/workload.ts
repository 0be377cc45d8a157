/** The scenario's workload (what each request does) and the backend tier behind every server. */
import { z } from 'zod';
import { DEFAULT_WORKLOAD, type WorkloadParams } from '../../vocabulary/index.js';
import { int, nonNegativeNumber, positiveNumber } from './rules.js';
import { MAX_BACKEND_CALLS, MAX_BACKEND_LIMIT, MAX_MS, MAX_RESPONSE_BYTES, MAX_STAGE_US } from './limits.js';

/** The per-request work every model performs; the same fields override it per server. */
const WORKLOAD_FIELDS = {
  parse_us: int(0, MAX_STAGE_US).describe(`CPU time spent parsing each request, µs (default ${DEFAULT_WORKLOAD.parse_us})`),
  process_us: int(0, MAX_STAGE_US).describe(`CPU time of the handler's own processing, µs (default ${DEFAULT_WORKLOAD.process_us})`),
  transform_us: int(0, MAX_STAGE_US).describe(`CPU time turning the backend answers into the response, µs (default ${DEFAULT_WORKLOAD.transform_us})`),
  backend_calls: int(0, MAX_BACKEND_CALLS).describe(`Sequential calls to the backend tier per request (default ${DEFAULT_WORKLOAD.backend_calls})`),
  response_bytes: int(0, MAX_RESPONSE_BYTES).describe(`Size of the response body, bytes (default ${DEFAULT_WORKLOAD.response_bytes})`),
} satisfies Record<keyof WorkloadParams, unknown>;

export const WorkloadSchema = z
  .strictObject({
    parse_us: WORKLOAD_FIELDS.parse_us.default(DEFAULT_WORKLOAD.parse_us),
    process_us: WORKLOAD_FIELDS.process_us.default(DEFAULT_WORKLOAD.process_us),
    transform_us: WORKLOAD_FIELDS.transform_us.default(DEFAULT_WORKLOAD.transform_us),
    backend_calls: WORKLOAD_FIELDS.backend_calls.default(DEFAULT_WORKLOAD.backend_calls),
    response_bytes: WORKLOAD_FIELDS.response_bytes.default(DEFAULT_WORKLOAD.response_bytes),
  })
  .describe('The work each request does, the same for every server unless a server overrides it');

export const WorkloadOverrideSchema = z
  .strictObject({
    parse_us: WORKLOAD_FIELDS.parse_us.optional(),
    process_us: WORKLOAD_FIELDS.process_us.optional(),
    transform_us: WORKLOAD_FIELDS.transform_us.optional(),
    backend_calls: WORKLOAD_FIELDS.backend_calls.optional(),
    response_bytes: WORKLOAD_FIELDS.response_bytes.optional(),
  })
  .describe("Fields of the scenario's workload this server changes (default: none)");

const Latency = z
  .discriminatedUnion('dist', [
    z.strictObject({
      dist: z.literal('fixed').describe('Every call takes the same time'),
      ms: nonNegativeNumber(MAX_MS).describe('Service time of each call, ms'),
    }),
    z
      .strictObject({
        dist: z.literal('uniform').describe('Service time drawn uniformly between two bounds'),
        min_ms: nonNegativeNumber(MAX_MS).describe('Shortest service time, ms'),
        max_ms: nonNegativeNumber(MAX_MS).describe('Longest service time, ms (at least min_ms)'),
      })
      .refine((l) => l.max_ms >= l.min_ms, {
        path: ['max_ms'],
        error: (issue) => `expected a number of at least min_ms (${(issue.input as { min_ms: number }).min_ms})`,
      }),
    z.strictObject({
      dist: z.literal('exponential').describe('Memoryless service times, as for a mix of cheap and costly queries'),
      mean_ms: positiveNumber(MAX_MS).describe('Mean service time, ms'),
    }),
    z.strictObject({
      dist: z.literal('lognormal').describe('Skewed service times with a long tail, as real databases show'),
      median_ms: positiveNumber(MAX_MS).describe('Median service time, ms'),
      sigma: positiveNumber(10).describe('Shape: the standard deviation of the logarithm (0.5 is moderate, 1.5 heavy)'),
    }),
  ])
  .describe("Distribution of one backend call's service time (default {dist: fixed, ms: 5})");

export const BackendSchema = z
  .strictObject({
    latency: Latency.default({ dist: 'fixed', ms: 5 }),
    limit: int(1, MAX_BACKEND_LIMIT).default(64).describe('Calls the backend serves at once; more wait in its queue (default 64)'),
  })
  .describe('The next tier every request calls: a real TCP server with a latency distribution and a concurrency limit');
