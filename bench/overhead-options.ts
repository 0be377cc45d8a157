/** The overhead bench's command line, and the workloads and models it names. */
import { parseArgs } from 'node:util';
import { DEFAULT_WORKLOAD, type WorkloadParams } from '../src/servers/workload.js';
import { BENCH_MODEL_IDS, BENCH_MODELS, type BenchModel } from './overhead-models.js';

export const WORKLOADS: Readonly<Record<string, WorkloadParams>> = {
  // No CPU stage, no backend, a small body: the per-request overhead is the largest share of each request here.
  hello: { parse_us: 0, process_us: 0, transform_us: 0, backend_calls: 0, response_bytes: 64 },
  default: { ...DEFAULT_WORKLOAD },
};

export const USAGE =
  'usage: node dist/bench/agent-overhead.js [--model event-loop|thread-pool|all] [--rounds N] [--seconds S] ' +
  '[--workload hello|default|all] [--wait-quiet S] [--json]';

export class UsageError extends Error {}

export interface Options {
  models: BenchModel[];
  rounds: number;
  seconds: number;
  workloads: string[];
  /** Seconds to wait before each trial for other processes to go quiet; 0: do not wait. */
  waitQuiet: number;
  json: boolean;
}

function int(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

export function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        rounds: { type: 'string' },
        seconds: { type: 'string' },
        workload: { type: 'string' },
        'wait-quiet': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const workload = values.workload ?? 'all';
  if (workload !== 'all' && !Object.hasOwn(WORKLOADS, workload)) {
    throw new UsageError(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}, all; got '${workload}'`);
  }
  const model = values.model ?? 'all';
  if (model !== 'all' && !Object.hasOwn(BENCH_MODELS, model)) {
    throw new UsageError(`--model must be one of ${BENCH_MODEL_IDS.join(', ')}, all; got '${model}'`);
  }
  return {
    models: model === 'all' ? BENCH_MODEL_IDS.map((id) => BENCH_MODELS[id]) : [BENCH_MODELS[model as BenchModel['id']]],
    rounds: int('rounds', values.rounds, 3, 1),
    seconds: int('seconds', values.seconds, 5, 1),
    workloads: workload === 'all' ? Object.keys(WORKLOADS) : [workload],
    waitQuiet: int('wait-quiet', values['wait-quiet'], 120, 0),
    json: values.json ?? false,
  };
}
