/** One server of a scenario: a reference model srvlens runs, or an external server it starts from a command. */
import { z } from 'zod';
import { MODEL_IDS, type ModelId } from '../../vocabulary/index.js';
import { int, name, positiveNumber } from './rules.js';
import { WorkloadOverrideSchema } from './workload.js';
import { MAX_DURATION_S, MAX_MODEL_SIZE } from './limits.js';

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
    timeout_s: positiveNumber(MAX_DURATION_S)
      .default(10)
      .describe('How long to wait for the server to be ready; then the run fails with the end of its stderr (default 10)'),
  })
  .refine((r) => r.http === undefined || r.tcp === undefined, { path: ['tcp'], error: 'give http or tcp, not both' })
  .describe('How srvlens knows an external server is ready for load (default {tcp: true, timeout_s: 10})');

/** The keys each kind of server has besides `name`, for the messages that say which kind a key belongs to. */
const REFERENCE_ONLY = ['size', 'workload', 'policy', 'cores'] as const;
const EXTERNAL_ONLY = ['port', 'ready', 'cwd', 'env', 'agent'] as const;

/**
 * One server: a reference model srvlens runs (`model`), or any server it starts from a command (`command`). One
 * object rather than a union of the two, so that a mistake in either kind is reported as itself ("port: missing")
 * and not as "matches neither kind"; the rules across fields are checked below.
 */
export const ServerSchema = z
  .strictObject({
    name: name().describe('Name of this server in views and reports, unique within the scenario'),
    // An external server has no model of its own: it is reported as `external` (and /proc names what it looks like).
    model: z
      .enum(MODEL_IDS)
      .optional()
      .transform((m): ModelId | typeof EXTERNAL_MODEL => m ?? EXTERNAL_MODEL)
      .describe('Concurrency model of the reference server to run; give this or command'),
    size: z
      .record(z.string(), int(1, MAX_MODEL_SIZE))
      .default({})
      .describe("Reference servers: the model's size: threads, processes, loops... (default: the model's own defaults)"),
    workload: WorkloadOverrideSchema.default({}),
    cores: int(1, MAX_MODEL_SIZE)
      .optional()
      .describe('Reference servers: pin the server to its first N CPUs (taskset), as `srvlens capacity --vary cores=1,2` does (default: every CPU)'),
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
