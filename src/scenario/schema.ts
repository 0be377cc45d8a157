/**
 * The scenario file (ARCHITECTURE section 6): which servers to compare, the workload they run, the backend tier
 * behind them, the load phases, the SLO and how a capacity search goes about it. Every object is strict so that a misspelt key is an error, not a silent default.
 *
 * Messages of the form "expected ..." get ", got <value>" appended by the loader (load.ts), which knows the value
 * as written; a field's type error and range error share one message so the user sees the whole rule at once.
 */
import { z } from 'zod';
import { DEFAULT_WORKLOAD, MODEL_IDS, type ModelId, type WorkloadParams } from '../vocabulary/index.js';
import { SloSchema } from './slo.js';

function int(min: number, max?: number) {
  const error = max === undefined ? `expected an integer of ${min} or more` : `expected an integer from ${min} to ${max}`;
  const schema = z.int({ error }).min(min, { error });
  return max === undefined ? schema : schema.max(max, { error });
}

function positiveNumber() {
  const error = 'expected a number greater than 0';
  return z.number({ error }).gt(0, { error });
}

function nonNegativeNumber() {
  const error = 'expected a number of 0 or more';
  return z.number({ error }).min(0, { error });
}

const NAME_RULE = 'expected a name of lowercase letters, digits and "-"';
const name = () => z.string({ error: NAME_RULE }).regex(/^[a-z0-9-]+$/, { error: NAME_RULE });

/** The per-request work every model performs; the same fields override it per server. */
const WORKLOAD_FIELDS = {
  parse_us: int(0).describe('CPU time spent parsing each request, µs (default 50)'),
  process_us: int(0).describe("CPU time of the handler's own processing, µs (default 500)"),
  transform_us: int(0).describe('CPU time turning the backend answers into the response, µs (default 100)'),
  backend_calls: int(0).describe('Sequential calls to the backend tier per request (default 1)'),
  response_bytes: int(0).describe('Size of the response body, bytes (default 1024)'),
} satisfies Record<keyof WorkloadParams, unknown>;

const Workload = z
  .strictObject({
    parse_us: WORKLOAD_FIELDS.parse_us.default(DEFAULT_WORKLOAD.parse_us),
    process_us: WORKLOAD_FIELDS.process_us.default(DEFAULT_WORKLOAD.process_us),
    transform_us: WORKLOAD_FIELDS.transform_us.default(DEFAULT_WORKLOAD.transform_us),
    backend_calls: WORKLOAD_FIELDS.backend_calls.default(DEFAULT_WORKLOAD.backend_calls),
    response_bytes: WORKLOAD_FIELDS.response_bytes.default(DEFAULT_WORKLOAD.response_bytes),
  })
  .describe('The work each request does, the same for every server unless a server overrides it');

const WorkloadOverride = z
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
      ms: nonNegativeNumber().describe('Service time of each call, ms'),
    }),
    z
      .strictObject({
        dist: z.literal('uniform').describe('Service time drawn uniformly between two bounds'),
        min_ms: nonNegativeNumber().describe('Shortest service time, ms'),
        max_ms: nonNegativeNumber().describe('Longest service time, ms (at least min_ms)'),
      })
      .refine((l) => l.max_ms >= l.min_ms, {
        path: ['max_ms'],
        error: (issue) => `expected a number of at least min_ms (${(issue.input as { min_ms: number }).min_ms})`,
      }),
    z.strictObject({
      dist: z.literal('exponential').describe('Memoryless service times, as for a mix of cheap and costly queries'),
      mean_ms: positiveNumber().describe('Mean service time, ms'),
    }),
    z.strictObject({
      dist: z.literal('lognormal').describe('Skewed service times with a long tail, as real databases show'),
      median_ms: positiveNumber().describe('Median service time, ms'),
      sigma: positiveNumber().describe('Shape: the standard deviation of the logarithm (0.5 is moderate, 1.5 heavy)'),
    }),
  ])
  .describe("Distribution of one backend call's service time (default {dist: fixed, ms: 5})");

const Backend = z
  .strictObject({
    latency: Latency.default({ dist: 'fixed', ms: 5 }),
    limit: int(1).default(64).describe('Calls the backend serves at once; more wait in its queue (default 64)'),
  })
  .describe('The next tier every request calls: a real TCP server with a latency distribution and a concurrency limit');

/** What the report calls a server that srvlens starts from a command instead of running a reference model. */
export const EXTERNAL_MODEL = 'external';

const PORT_RULE = 'expected a TCP port from 1 to 65535';
const COMMAND_RULE = 'expected a command line (run with sh -c) or a list: the program and its arguments';

const Ready = z
  .strictObject({
    http: z
      .string({ error: 'expected a path starting with "/"' })
      .startsWith('/', { error: 'expected a path starting with "/"' })
      .optional()
      .describe('Ready once a GET of this path gets any HTTP response, whatever its status'),
    tcp: z
      .literal(true, { error: 'expected true: ready once a connection to the port succeeds' })
      .optional()
      .describe('Ready once a connection to the port succeeds (the default probe)'),
    timeout_s: positiveNumber()
      .default(10)
      .describe('How long to wait for the server to be ready; then the run fails with the end of its stderr (default 10)'),
  })
  .refine((r) => r.http === undefined || r.tcp === undefined, { path: ['tcp'], error: 'give http or tcp, not both' })
  .describe('How srvlens knows an external server is ready for load (default {tcp: true, timeout_s: 10})');

/** The keys each kind of server has besides `name`, for the messages that say which kind a key belongs to. */
const REFERENCE_ONLY = ['size', 'workload', 'policy'] as const;
const EXTERNAL_ONLY = ['port', 'ready', 'cwd', 'env', 'agent'] as const;

/**
 * One server: a reference model srvlens runs (`model`), or any server it starts from a command (`command`). One
 * object rather than a union of the two, so that a mistake in either kind is reported as itself ("port: missing")
 * and not as "matches neither kind"; the rules across fields are checked below.
 */
const Server = z
  .strictObject({
    name: name().describe('Name of this server in views and reports, unique within the scenario'),
    // An external server has no model of its own: it is reported as `external` (and /proc names what it looks like).
    model: z
      .enum(MODEL_IDS)
      .optional()
      .transform((m): ModelId | typeof EXTERNAL_MODEL => m ?? EXTERNAL_MODEL)
      .describe('Concurrency model of the reference server to run; give this or command'),
    size: z
      .record(z.string(), int(1))
      .default({})
      .describe("Reference servers: the model's size: threads, processes, loops... (default: the model's own defaults)"),
    workload: WorkloadOverride.default({}),
    policy: z
      .enum(['none', 'rr'])
      .optional()
      .describe('event-loop-per-core only: who accepts connections, none (the kernel balances) or rr (the primary hands them out) (default none)'),
    command: z
      .union([z.string({ error: COMMAND_RULE }).min(1, { error: COMMAND_RULE }), z.array(z.string(), { error: COMMAND_RULE }).min(1, { error: COMMAND_RULE })], {
        error: COMMAND_RULE,
      })
      .optional()
      .describe(
        'An external server to start instead of a reference model: a command line, run with sh -c, or a list (program, arguments) run as is; {port} in it is replaced by port, which is also in the env var PORT. It runs in its own process group, in srvlens\'s working directory unless cwd says otherwise, and is stopped (SIGTERM, SIGKILL 3 s later) after its run',
      ),
    port: int(1, 65535)
      .optional()
      .describe('External servers (required): the port it listens on, on 127.0.0.1, where the generator sends the load'),
    ready: Ready.optional(),
    cwd: z.string().optional().describe("External servers: the command's working directory (default: srvlens's own)"),
    env: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, a number or true/false' }))
      .optional()
      .describe("External servers: environment variables added to srvlens's own for the command; {port} in a value is replaced too (default: none)"),
    agent: z
      .enum(['none', 'node'])
      .optional()
      .describe(
        'External servers: none (measured from outside: client latency and /proc) or node (a Node app: the srvlens agent is preloaded through NODE_OPTIONS, so its requests are split into parts) (default none)',
      ),
  })
  .superRefine(
    (server, ctx) => {
      // Runs even when some field is invalid (see `when`): a field already reported is not reported again.
      const reported = new Set(ctx.issues.map((i) => i.path?.[0]));
      const modelGiven = server.model !== EXTERNAL_MODEL && !reported.has('model');
      const commandGiven = server.command !== undefined || reported.has('command');
      const issue = (key: string, message: string) => reported.has(key) || ctx.addIssue({ code: 'custom', path: [key], message });
      if (modelGiven && commandGiven) {
        issue('command', 'give model (a reference server to run) or command (an external server to start), not both');
      } else if (commandGiven) {
        if (server.port === undefined) issue('port', `${PORT_RULE} (an external server needs the port it listens on)`);
        for (const key of REFERENCE_ONLY) {
          const v = server[key];
          if (v !== undefined && !(typeof v === 'object' && Object.keys(v).length === 0)) {
            issue(key, `only a reference server (one with model) has ${key}: an external server runs its own code`);
          }
        }
      } else if (!reported.has('model')) {
        if (!modelGiven) issue('model', `expected one of ${MODEL_IDS.map((m) => JSON.stringify(m)).join(', ')}`);
        for (const key of EXTERNAL_ONLY) {
          if (server[key] !== undefined) issue(key, `only an external server (one with command) has ${key}`);
        }
      }
    },
    { when: (payload) => payload.value !== null && typeof payload.value === 'object' && !Array.isArray(payload.value) },
  )
  .meta({
    description: 'One server under test: a reference model (model) or a server srvlens starts (command)',
    // The JSON Schema leaves refinements out; this says "model, or command with port" to editors all the same.
    oneOf: [{ required: ['model'] }, { required: ['command', 'port'] }],
  });

/** Fields every phase has besides its kind. */
const PHASE_COMMON = {
  name: name().describe('Name of the phase in views and reports'),
  warmup_s: nonNegativeNumber()
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
  rate: positiveNumber().describe('Requests per second, sent on schedule whatever the server does'),
  duration_s: positiveNumber().describe('Length of the phase, s (after any warm-up)'),
  arrivals: ARRIVALS,
});

const StepPhase = z.strictObject({
  kind: z.literal('step').describe('Open loop at a series of rates, each held for step_s'),
  ...PHASE_COMMON,
  rates: z
    .array(positiveNumber(), { error: 'expected a list of rates' })
    .min(1, { error: 'expected a list of at least one rate' })
    .describe('Requests per second of each step, in order (a warm-up runs at the first)'),
  step_s: positiveNumber().describe('Length of each step, s'),
  arrivals: ARRIVALS,
});

const RampPhase = z
  .strictObject({
    kind: z.literal('ramp').describe('Open loop whose rate goes linearly from `from` to `to` over duration_s'),
    ...PHASE_COMMON,
    from: nonNegativeNumber().describe('Requests per second at the start (a warm-up runs at this rate)'),
    to: nonNegativeNumber().describe('Requests per second at the end'),
    duration_s: positiveNumber().describe('Length of the ramp, s (after any warm-up)'),
    arrivals: ARRIVALS,
  })
  .refine((p) => p.from > 0 || p.to > 0, { path: ['to'], error: 'expected a number greater than 0 when from is 0' });

const ClosedPhase = z.strictObject({
  kind: z.literal('closed').describe('Closed loop: users that each send, wait for the answer, think, and send again'),
  ...PHASE_COMMON,
  users: int(1, 100_000).describe('Users, each with a connection of its own'),
  think_ms: nonNegativeNumber().default(0).describe("A user's pause between an answer and its next request, ms (default 0)"),
  think: z
    .enum(['fixed', 'exponential'])
    .default('fixed')
    .describe('fixed: every pause is think_ms; exponential: pauses drawn with mean think_ms, from load.seed (default fixed)'),
  duration_s: positiveNumber().describe('Length of the phase, s (after any warm-up)'),
});

const Phase = z.discriminatedUnion('kind', [ConstantPhase, StepPhase, RampPhase, ClosedPhase]);

const MixEntry = z
  .strictObject({
    name: name().describe('Name of this kind of request in reports'),
    weight: positiveNumber().default(1).describe('Relative share of requests of this kind (default 1)'),
    path: z.string().startsWith('/', { error: 'expected a path starting with "/"' }).optional().describe('Request path (default: load.path)'),
    workload: WorkloadOverride.default({}).describe(
      'Workload fields for requests of this kind, sent in the query string (?process_us=2000&backend_calls=2) for the server to lay over its own (default: none)',
    ),
  })
  .describe('One kind of request in the mix');

const SlowClients = z
  .strictObject({
    connections: int(1, 100_000).describe('Slow clients, each on a connection of its own'),
    trickle_ms: positiveNumber().describe("Time over which each request's head is sent, in pieces, ms"),
    chunks: int(2, 1000).default(10).describe('Pieces the head is cut into: the first goes at once, the last trickle_ms later (default 10)'),
  })
  .describe('Slow clients beside the load: each sends one request at a time with its head trickled over trickle_ms; counted apart from the measured requests');

const THREADS_RULE = 'expected "auto" or a number of threads from 1 to 64';

const Load = z
  .strictObject({
    connections: int(1).default(32).describe('Connections the generator keeps open (default 32); with connection: new, connections at once'),
    connection: z
      .enum(['keep-alive', 'new'])
      .default('keep-alive')
      .describe('keep-alive: a pool of reused connections; new: a connection per request, whose connect is part of its time (default keep-alive)'),
    timeout_ms: int(1).default(5000).describe('A request not answered within this is an error, ms (default 5000)'),
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

const Capacity = z
  .strictObject({
    start_rps: positiveNumber().default(50).describe('Rate of the first probe, req/s (default 50)'),
    max_rps: positiveNumber().default(100_000).describe('Highest rate probed, req/s (default 100000)'),
    step_factor: z
      .number({ error: 'expected a number greater than 1' })
      .gt(1, { error: 'expected a number greater than 1' })
      .default(2)
      .describe('Each step up multiplies the rate by this (default 2)'),
    probe_s: positiveNumber().default(5).describe('Measured length of each probe, s (default 5)'),
    warmup_s: nonNegativeNumber().default(1).describe('Warm-up before each probe, left out of its figures, s (default 1)'),
    confirm_s: positiveNumber().default(15).describe('Measured length of the confirming probe at the rate found, s (default 15)'),
    precision: z
      .number({ error: 'expected a share from 0.01 to 0.5' })
      .min(0.01, { error: 'expected a share from 0.01 to 0.5' })
      .max(0.5, { error: 'expected a share from 0.01 to 0.5' })
      .default(0.05)
      .describe('Bisection stops when the highest passing and lowest failing rates are this close, relative (default 0.05)'),
    max_seconds: positiveNumber().default(600).describe('Time budget of the whole search, s; --max-seconds overrides (default 600)'),
  })
  .describe('How `srvlens capacity` searches for the highest sustainable rate (all fields have defaults)');

export const ScenarioSchema = z
  .strictObject(
    {
      name: name().describe('Name of the scenario'),
      description: z.string().default('').describe('What the scenario shows (default "")'),
      interval_ms: int(100, 60000).default(1000).describe('Length of one timeline frame, ms (default 1000)'),
      // prefault: an absent section is parsed as {}, so the fields' own defaults fill it (one place for each default).
      workload: Workload.prefault({}),
      backend: Backend.prefault({}),
      servers: z
        .array(Server, { error: 'expected a list of servers' })
        .min(1, { error: 'expected a list of at least one server' })
        .superRefine(
          (servers, ctx) => {
            // Runs even when some server is invalid (see `when`), so the values are checked rather than trusted.
            const first = new Map<string, number>();
            (servers as unknown[]).forEach((s, i) => {
              const name = (s as { name?: unknown } | null)?.name;
              if (typeof name !== 'string') return;
              const j = first.get(name);
              if (j === undefined) first.set(name, i);
              else ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate server name "${name}", also used by servers[${j}]` });
            });
          },
          // A duplicate is worth reporting alongside other mistakes in the list, not only once they are fixed.
          { when: (payload) => Array.isArray(payload.value) },
        )
        .describe('Servers to compare, run one after another under the same load'),
      load: Load,
      slo: SloSchema.optional(),
      capacity: Capacity.optional(),
    },
    { error: 'expected a mapping with name, servers and load' },
  )
  .describe('A srvlens scenario');

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioServer = Scenario['servers'][number];
export type Workload = Scenario['workload'];
export type Phase = Scenario['load']['phases'][number];
export type LatencyDistribution = Scenario['backend']['latency'];
export type CapacitySettings = z.output<typeof Capacity>;

/** The capacity search's settings with every default filled in. */
export function capacitySettings(scenario: Scenario): CapacitySettings {
  return Capacity.parse(scenario.capacity ?? {});
}

/** The workload a server runs: the scenario's, with the server's own overrides on top. */
export function serverWorkload(scenario: Scenario, server: ScenarioServer): Workload {
  return { ...scenario.workload, ...definedOnly(server.workload) };
}

/** How long a phase runs, s, its warm-up included. */
export function phaseDurationS(phase: Phase): number {
  return phase.warmup_s + (phase.kind === 'step' ? phase.rates.length * phase.step_s : phase.duration_s);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
