/**
 * agent-overhead's JSON (one or more runs of it) as the suite's figures: per model and workload, what srvlens, its
 * exemplars and OpenTelemetry's HTTP tracing cost the server's throughput, against issue 18's targets, each trial
 * against its baseline (overhead/summary.ts baselineFor: the server beside it, or its round's no-agent trial).
 */
import { baselineFor, TARGET_COST_PCT, type PairableTrial } from '../overhead/summary.js';
import { OTHER_CPU_CAUTION_PCT } from '../overhead/report.js';
import { figure, notRun, type Figure, type Target } from './figures.js';

const BENCH = 'agent-overhead';

/** What the suite reads of agent-overhead --json (bench/README.md, "JSON"). */
export interface OverheadJson {
  cases: { model: string; workload: string; checks: string[] }[];
  trials: {
    model: string;
    workload: string;
    round: number;
    variant: string;
    reqPerSec: number;
    cpuUsPerRequest: number | null;
    otherCpuPct: number | null;
    stealPct: number | null;
    /** A paired trial: the no-agent server beside it (bench/overhead/summary.ts Pairing); absent before pairs. */
    pairing?: PairableTrial['pairing'];
  }[];
}

/** The prom-client variant: one labelled request-duration histogram observed per request, the anchor on hello. */
export const PROM_CLIENT = 'prom-client';

/**
 * Issue 18's targets, % of the baseline's throughput: srvlens <= 2 % on the reference servers' default workload and
 * <= 5 % on hello, exemplars <= 5 % on default. The plain app's workloads (its outgoing call's client) are not in
 * the issue: they keep the bench's own targets (overhead/summary.ts).
 */
export function costTarget(variant: 'srvlens' | 'exemplars', workload: string): Target | null {
  if (workload === 'default') return { op: '<=', value: variant === 'srvlens' ? 2 : 5 };
  if (workload === 'hello' && variant === 'srvlens') return { op: '<=', value: 5 };
  const own = TARGET_COST_PCT[variant];
  return own === undefined ? null : { op: '<=', value: own, against: "the bench's own" };
}

type Trial = OverheadJson['trials'][number];

/** Per trial, `measure` of `variant` against its baseline (the server beside it, or its round's none), as `cost`. */
function perRound(trials: Trial[], variant: string, measure: 'reqPerSec' | 'cpuUsPerRequest', cost: (v: number, none: number) => number): number[] {
  const out: number[] = [];
  for (const t of trials.filter((x) => x.variant === variant)) {
    const [v, n] = [t[measure], baselineFor(t, trials, measure)];
    if (v !== null && n !== null && n > 0) out.push(cost(v, n));
  }
  return out;
}

const NOT_IN_RUN = (variant: string) => `${variant} was not among this run's variants (--variants)`;

const throughputCost = (v: number, none: number) => (1 - v / none) * 100;
const cpuExtra = (v: number, none: number) => (v / none - 1) * 100;

/** Check lines of one variant that failed ("FAILED srvlens round 2: ...", "srvlens: requests ... FAILED (...)"). */
function failedChecks(checks: string[], variant: string): string[] {
  return checks.filter((l) => l.includes('FAILED') && (l.startsWith(`${variant}:`) || l.startsWith(`FAILED ${variant}`)));
}

export function overheadFigures(runs: readonly OverheadJson[]): Figure[] {
  const out: Figure[] = [];
  for (const run of runs) {
    for (const c of run.cases) {
      const trials = run.trials.filter((t) => t.model === c.model && t.workload === c.workload);
      const label = `${c.model} ${c.workload}`;
      const cost = (variant: string) => perRound(trials, variant, 'reqPerSec', throughputCost);
      const ran = (variant: string) => trials.some((t) => t.variant === variant);
      const note = interference(trials);
      for (const variant of ['srvlens', 'exemplars'] as const) {
        out.push(
          figure({ bench: BENCH, name: `${label}: ${variant} throughput cost`, unit: '%', samples: cost(variant), target: costTarget(variant, c.workload), failedChecks: failedChecks(c.checks, variant), note }),
        );
      }
      out.push(
        figure({
          bench: BENCH,
          name: `${label}: srvlens CPU per request`,
          unit: '% more',
          samples: perRound(trials, 'srvlens', 'cpuUsPerRequest', cpuExtra),
          failedChecks: failedChecks(c.checks, 'srvlens'),
          note,
        }),
      );
      if (trials.some((t) => t.pairing)) {
        // What a pair reads with nothing between its servers: the resolution of the figures above.
        out.push(figure({ bench: BENCH, name: `${label}: none beside none (a pair's noise)`, unit: '%', samples: cost('none') }));
      }
      const otel = `${label}: otel throughput cost`;
      out.push(ran('otel') ? figure({ bench: BENCH, name: otel, unit: '%', samples: cost('otel'), failedChecks: failedChecks(c.checks, 'otel') }) : notRun(BENCH, otel, '%', NOT_IN_RUN('otel')));
      if (c.workload === 'hello') out.push(promClientFigure(label, trials, cost('srvlens'), cost(PROM_CLIENT), c.checks));
    }
  }
  return out;
}

/**
 * Where other processes or the hypervisor took a core's share the bench itself cautions about during a trial: the
 * figure's note says so, as the bench's own report does, since the pairs then compare a busy trial with a quiet one.
 */
function interference(trials: readonly Trial[]): string | null {
  const worst = Math.max(0, ...trials.map((t) => Math.max(t.otherCpuPct ?? 0, t.stealPct ?? 0)));
  return worst > OTHER_CPU_CAUTION_PCT ? `other processes took up to ${worst.toFixed(0)} % of a core in a trial: rerun when the machine is quiet` : null;
}

/** srvlens must cost a hello server less than one prom-client histogram does, in the same run. */
function promClientFigure(label: string, trials: Trial[], srvlens: number[], prom: number[], checks: string[]): Figure {
  const name = `${label}: srvlens cost, below prom-client's`;
  if (!trials.some((t) => t.variant === PROM_CLIENT)) return notRun(BENCH, name, '%', NOT_IN_RUN(PROM_CLIENT), null);
  // A server that does not go through node:http gives prom-client's histogram nothing to observe: no anchor there.
  const unseen = checks.find((l) => l.startsWith(`${PROM_CLIENT}: 0 observations`) || l.startsWith(`${PROM_CLIENT}: not run`));
  if (unseen !== undefined) return notRun(BENCH, name, '%', unseen.slice(PROM_CLIENT.length + 2), null);
  const promMedian = figure({ bench: BENCH, name, unit: '%', samples: prom }).median;
  const target: Target | null = promMedian === null ? null : { op: '<=', value: promMedian, against: "prom-client's, same run" };
  return figure({ bench: BENCH, name, unit: '%', samples: srvlens, target, failedChecks: [...failedChecks(checks, 'srvlens'), ...failedChecks(checks, PROM_CLIENT)] });
}
