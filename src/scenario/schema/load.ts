/** What the load generator sends: connections, the request mix, and the load phases in order. */
import { z } from 'zod';
import { int, name, nonNegativeNumber, positiveNumber } from './rules.js';
import { WorkloadOverrideSchema } from './workload.js';
import { MAX_CONNECTIONS, MAX_DURATION_S, MAX_MS, MAX_RATE_RPS } from './limits.js';

/** Fields every phase has besides its kind. */
const PHASE_COMMON = {
  name: name().describe('Name of the phase in views and reports'),
  warmup_s: nonNegativeNumber(MAX_DURATION_S)
    .default(0)
    .describe("Seconds at the phase's starting load before its measured duration; those intervals are marked warm-up and left out of its figures (default 0)"),
};

/** How an open-loop phase spaces its requests. */
const ARRIVALS = z
  .enum(['even', 'poisson'])
  .default('even')
  .describe('even: one request every 1/rate s; poisson: exponential gaps at the same mean rate, drawn from load.seed (default even)');

const ConstantPhase = z.strictObject({
  kind: z.literal('constant').default('constant').describe('Open loop at one rate (the default kind)'),
  ...PHASE_COMMON,
  rate: positiveNumber(MAX_RATE_RPS).describe('Requests per second, sent on schedule whatever the server does'),
  duration_s: positiveNumber(MAX_DURATION_S).describe('Length of the phase, s (after any warm-up)'),
  arrivals: ARRIVALS,
});

const StepPhase = z.strictObject({
  kind: z.literal('step').describe('Open loop at a series of rates, each held for step_s'),
  ...PHASE_COMMON,
  rates: z
    .array(positiveNumber(MAX_RATE_RPS), { error: 'expected a list of rates' })
    .min(1, { error: 'expected a list of at least one rate' })
    .describe('Requests per second of each step, in order (a warm-up runs at the first)'),
  step_s: positiveNumber(MAX_DURATION_S).describe('Length of each step, s'),
  arrivals: ARRIVALS,
});

const RampPhase = z
  .strictObject({
    kind: z.literal('ramp').describe('Open loop whose rate goes linearly from `from` to `to` over duration_s'),
    ...PHASE_COMMON,
    from: nonNegativeNumber(MAX_RATE_RPS).describe('Requests per second at the start (a warm-up runs at this rate)'),
    to: nonNegativeNumber(MAX_RATE_RPS).describe('Requests per second at the end'),
    duration_s: positiveNumber(MAX_DURATION_S).describe('Length of the ramp, s (after any warm-up)'),
    arrivals: ARRIVALS,
  })
  .refine((p) => p.from > 0 || p.to > 0, { path: ['to'], error: 'expected a number greater than 0 when from is 0' });

const ClosedPhase = z.strictObject({
  kind: z.literal('closed').describe('Closed loop: users that each send, wait for the answer, think, and send again'),
  ...PHASE_COMMON,
  users: int(1, MAX_CONNECTIONS).describe('Users, each with a connection of its own'),
  think_ms: nonNegativeNumber(MAX_MS).default(0).describe("A user's pause between an answer and its next request, ms (default 0)"),
  think: z
    .enum(['fixed', 'exponential'])
    .default('fixed')
    .describe('fixed: every pause is think_ms; exponential: pauses drawn with mean think_ms, from load.seed (default fixed)'),
  duration_s: positiveNumber(MAX_DURATION_S).describe('Length of the phase, s (after any warm-up)'),
});

const Phase = z.discriminatedUnion('kind', [ConstantPhase, StepPhase, RampPhase, ClosedPhase]);

const MixEntry = z
  .strictObject({
    name: name().describe('Name of this kind of request in reports'),
    weight: positiveNumber().default(1).describe('Relative share of requests of this kind (default 1)'),
    path: z.string().startsWith('/', { error: 'expected a path starting with "/"' }).optional().describe('Request path (default: load.path)'),
    workload: WorkloadOverrideSchema.default({}).describe(
      'Workload fields for requests of this kind, sent in the query string (?process_us=2000&backend_calls=2) for the server to lay over its own (default: none)',
    ),
  })
  .describe('One kind of request in the mix');

const SlowClients = z
  .strictObject({
    connections: int(1, MAX_CONNECTIONS).describe('Slow clients, each on a connection of its own'),
    trickle_ms: positiveNumber(MAX_MS).describe("Time over which each request's head is sent, in pieces, ms"),
    chunks: int(2, 1000).default(10).describe('Pieces the head is cut into: the first goes at once, the last trickle_ms later (default 10)'),
  })
  .describe('Slow clients beside the load: each sends one request at a time with its head trickled over trickle_ms; counted apart from the measured requests');

const THREADS_RULE = 'expected "auto" or a number of threads from 1 to 64';

export const LoadSchema = z
  .strictObject({
    connections: int(1, MAX_CONNECTIONS).default(32).describe('Connections the generator keeps open (default 32); with connection: new, connections at once'),
    connection: z
      .enum(['keep-alive', 'new'])
      .default('keep-alive')
      .describe('keep-alive: a pool of reused connections; new: a connection per request, whose connect is part of its time (default keep-alive)'),
    timeout_ms: int(1, MAX_MS).default(5000).describe('A request not answered within this is an error, ms (default 5000)'),
    path: z.string().startsWith('/', { error: 'expected a path starting with "/"' }).default('/').describe('Request path (default "/")'),
    mix: z
      .array(MixEntry, { error: 'expected a list of kinds of request' })
      .min(1, { error: 'expected a list of at least one kind of request' })
      .optional()
      .describe('Kinds of request with weights, each with its own path and workload (default: every request is the same)'),
    seed: int(0, 2 ** 32 - 1).default(1).describe('Seed of Poisson arrivals, exponential think times and the mix: the same seed, the same sequence (default 1)'),
    slow_clients: SlowClients.optional(),
    idle_connections: int(0, 1_000_000)
      .default(0)
      .describe("Connections opened before the first phase and held open, sending nothing, beside the load (the C10K case); bounded by the generator's open-file limit, which it reports (default 0)"),
    threads: z
      .union([z.literal('auto'), z.int({ error: THREADS_RULE }).min(1, { error: THREADS_RULE }).max(64, { error: THREADS_RULE })], { error: THREADS_RULE })
      .default('auto')
      .describe('Generator threads; auto adds one per 15k req/s of peak open-loop rate, up to the cores (default auto)'),
    phases: z
      .array(Phase, { error: 'expected a list of phases' })
      .min(1, { error: 'expected a list of at least one phase' })
      .describe('Load phases, run in order against each server'),
  })
  .describe('What the load generator sends');
