/** The overhead bench's command line: which models, and which of their workloads. */
import { parseArgs } from 'node:util';
import { cpuBudgetUnavailable } from './cpu-budget.js';
import { BENCH_MODEL_IDS, BENCH_MODELS, type BenchModel } from './models.js';
import { VARIANTS, type VariantId } from './summary.js';
import { WORKLOAD_IDS, type WorkloadId } from './workloads.js';

export const USAGE =
  `usage: node dist/bench/agent-overhead.js [--model ${BENCH_MODEL_IDS.join('|')}|all] [--rounds N] [--seconds S] ` +
  `[--workload ${WORKLOAD_IDS.join('|')}|all] [--variants none,srvlens,...] [--wait-quiet S] [--pair CORES|off] [--cpu-prof DIR] [--json]`;

export class UsageError extends Error {}

/**
 * Each paired server's cap, in cores: two of them and the generator on 2 cores. Measured: at 0.35 both servers of a
 * hello-world pair used their whole quota in ~90 % of periods (saturated) while autocannon kept up with both.
 */
const DEFAULT_PAIR_CORES = 0.35;

/** One model under one of its workloads: a table of the report. */
export interface BenchCase {
  model: BenchModel;
  workload: WorkloadId;
}

export interface Options {
  /** In the order run: model by model, each through its workloads. */
  cases: BenchCase[];
  rounds: number;
  seconds: number;
  /** The variants each round runs, in VARIANTS' order; `none` always (every other is held against it). */
  variants: VariantId[];
  /** Seconds to wait before each trial for other processes to go quiet; 0: do not wait. */
  waitQuiet: number;
  /**
   * Paired trials (cpu-budget.ts): each server runs beside one without an agent, both capped at this many cores; null:
   * trials one after another, uncapped (--pair off, or where cgroups cannot be made: `pairUnavailable` says why).
   */
  pairCores: number | null;
  pairUnavailable: string | null;
  /**
   * Where each server writes V8 CPU profiles (`node --cpu-prof`: one a thread, the pool's workers included), in a
   * folder a trial; null: none. Profiles cost the servers a little (a sample a millisecond): a lead to where the
   * agent's time goes, not a run to quote figures from.
   */
  cpuProfDir: string | null;
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
        pair: { type: 'string' },
        variants: { type: 'string' },
        'cpu-prof': { type: 'string' },
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
  const model = values.model ?? 'all';
  if (model !== 'all' && !Object.hasOwn(BENCH_MODELS, model)) {
    throw new UsageError(`--model must be one of ${BENCH_MODEL_IDS.join(', ')}, all; got '${model}'`);
  }
  const workload = values.workload ?? 'all';
  if (workload !== 'all' && !(WORKLOAD_IDS as string[]).includes(workload)) {
    throw new UsageError(`--workload must be one of ${WORKLOAD_IDS.join(', ')}, all; got '${workload}'`);
  }
  // Each model has workloads of its own (the plain app's are its outgoing call's client): --workload picks among them.
  const models = model === 'all' ? BENCH_MODEL_IDS.map((id) => BENCH_MODELS[id]) : [BENCH_MODELS[model as BenchModel['id']]];
  const cases = models.flatMap((m) => m.workloads.filter((w) => workload === 'all' || w === workload).map((w) => ({ model: m, workload: w })));
  if (cases.length === 0) {
    const has = models.map((m) => `${m.id}: ${m.workloads.join(', ')}`).join('; ');
    throw new UsageError(`--workload ${workload} is not a workload of --model ${model} (${has})`);
  }
  const pair = values.pair ?? String(DEFAULT_PAIR_CORES);
  const cores = pair === 'off' ? null : Number(pair);
  if (cores !== null && !(cores > 0 && cores <= 1)) throw new UsageError(`--pair must be a share of one core in (0, 1] or off, got '${pair}'`);
  const unavailable = cores === null ? null : cpuBudgetUnavailable();
  const asked = values.variants === undefined ? [...VARIANTS] : values.variants.split(',').map((v) => v.trim());
  const unknown = asked.filter((v) => !(VARIANTS as readonly string[]).includes(v));
  if (unknown.length > 0 || !asked.includes('none')) {
    throw new UsageError(`--variants must list none and any of ${VARIANTS.filter((v) => v !== 'none').join(', ')}; got '${values.variants}'`);
  }
  return {
    cases,
    pairCores: unavailable === null ? cores : null,
    pairUnavailable: unavailable,
    rounds: int('rounds', values.rounds, 3, 1),
    variants: VARIANTS.filter((v) => asked.includes(v)),
    seconds: int('seconds', values.seconds, 5, 1),
    waitQuiet: int('wait-quiet', values['wait-quiet'], 120, 0),
    cpuProfDir: values['cpu-prof'] ?? null,
    json: values.json ?? false,
  };
}
