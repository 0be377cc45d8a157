/**
 * The overhead bench's arithmetic, pure: trials in, medians, spreads, ratios against the no-agent baseline and the
 * verdicts out, per model and workload. Ratios are the medians of per-trial or per-round ratios: a paired trial's
 * server against the one without an agent that ran beside it in the same seconds under the same CPU budget; else
 * against the round's no-agent trial (variants of one round ran back to back, which cancels the slow drifts of a
 * shared VM that medians over all rounds would keep, though not the fast ones).
 */

export const VARIANTS = ['none', 'srvlens', 'exemplars', 'prom-client', 'otel'] as const;
export type VariantId = (typeof VARIANTS)[number];
export type InstrumentedId = Exclude<VariantId, 'none'>;
export const INSTRUMENTED = VARIANTS.filter((v): v is InstrumentedId => v !== 'none');

/**
 * The most of the baseline's throughput each srvlens variant may cost; otel and prom-client are measured, not held to
 * a target (prom-client is the anchor srvlens is held below: bench/suite/overhead-figures.ts).
 */
export const TARGET_COST_PCT: Readonly<Partial<Record<InstrumentedId, number>>> = { srvlens: 5, exemplars: 10 };

/**
 * A check passes when the instrumented side saw at least this share of the generator's responses. Not 1: autocannon
 * drops up to one in-flight request per connection at the end of each run, and the agent exports whole intervals.
 */
export const MIN_SEEN_SHARE = 0.95;

export interface Trial {
  model: string;
  workload: string;
  round: number;
  /** Position in its round, 0-based; the order rotates from round to round. */
  slot: number;
  variant: VariantId;
  reqPerSec: number;
  /**
   * The server's CPU (user + system, every thread of every process) per response over the measured run, µs; null
   * without /proc. Steal time and the generator's share of the cores move throughput much more than this.
   */
  cpuUsPerRequest: number | null;
  /** The server's CPU seconds per wall second over the measured run, in %: under ~90 % the generator was the limit. */
  serverBusyPct: number | null;
  /** The same for the trial's downstream tier (the backend, or the plain app's upstream): near 100 % it set the pace. */
  downstreamBusyPct: number | null;
  /**
   * CPU that processes other than this bench's took during the measured run, and the hypervisor's steal, in % of
   * one core: other work on a shared machine moves every figure here.
   */
  otherCpuPct: number | null;
  stealPct: number | null;
  /** Responses over the warm-up and the measured run, as the generator counted them. */
  responses: number;
  errors: number;
  non2xx: number;
  /** Requests the server's instrumentation saw: the agent's exported intervals or OTel's exported SERVER spans. */
  seen: number | null;
  /** What `seen` counts, for the report. */
  seenWhat: string | null;
  /** The agent's variants: the downstream part it timed, ms per request it counted (over its exported intervals). */
  downstreamMsPerRequest: number | null;
  /** The otel variant: CLIENT spans exported (node:http calls the server made). */
  otelClientSpans: number | null;
  /**
   * The exemplars variant: exemplar spans that reached the collector's traces endpoint, of the slowest requests and
   * of the random sample, and how many slowest the agent's exported intervals say it kept (per thread and interval,
   * one per request up to two). Else null.
   */
  exemplars: { slowest: number; sampled: number; expectedSlowest: number } | null;
  /** A paired trial: the server without an agent beside it, under the same cap; null for a trial run alone. */
  pairing: Pairing | null;
  /** Problems found while verifying this trial (e.g. no spans made); empty when fine. */
  problems: string[];
}

export interface Pairing {
  /** Each server's CPU cap, in cores. */
  cores: number;
  besideReqPerSec: number;
  besideCpuUsPerRequest: number | null;
  /**
   * Share of the measured seconds' scheduler periods in which each server used up its quota, %: a server under the
   * cap was not saturated (the generator set its pace), and its throughput does not measure its CPU per request.
   */
  saturatedPct: number;
  besideSaturatedPct: number;
  besideErrors: number;
}

/** A pair whose servers were not both held at their cap measures the generator: at least this share of periods. */
export const MIN_SATURATED_PCT = 50;

export function pairingProblems(p: Pairing): string[] {
  const problems: string[] = [];
  for (const [who, pct] of [['the server', p.saturatedPct], ['the server beside it', p.besideSaturatedPct]] as const) {
    if (pct < MIN_SATURATED_PCT) {
      problems.push(`${who} used its ${p.cores}-core budget in only ${pct.toFixed(0)} % of periods (under ${MIN_SATURATED_PCT} %): not saturated, so the pair measures the generator`);
    }
  }
  if (p.besideErrors > 0) problems.push(`the server beside it: ${p.besideErrors} errors or non-2xx responses`);
  return problems;
}

export interface VariantSummary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in %. */
  spreadPct: number;
  rounds: number[];
  /** Medians over rounds; null without /proc. */
  cpuUsPerRequest: number | null;
  serverBusyPct: number | null;
  downstreamBusyPct: number | null;
}

/** The most other processes and the hypervisor took in any one trial of a workload, % of one core. */
export interface Interference {
  maxOtherCpuPct: number | null;
  maxStealPct: number | null;
}

export interface RatioSummary {
  /** Median of the per-round ratios variant/none. */
  ratio: number;
  min: number;
  max: number;
  /** (1 - ratio) in %: the share of the baseline's throughput the instrumentation costs. */
  costPct: number;
}

/** Server CPU per request, variant/none, paired by round like the throughput ratios. */
export interface CpuRatioSummary {
  ratio: number;
  min: number;
  max: number;
  /** (ratio - 1) in %: how much more CPU each request takes. */
  extraPct: number;
  /** (1 - 1/ratio) in %: the throughput a CPU-bound server loses to it, comparable with the target. */
  throughputCostPct: number;
}

/** A srvlens variant's cost against its target. */
export interface Verdict {
  targetCostPct: number;
  costPct: number;
  met: boolean;
}

/** One model under one workload: every variant, its ratios to none, the verdicts and the checks. */
export interface CaseSummary {
  model: string;
  workload: string;
  variants: Record<VariantId, VariantSummary>;
  ratios: Record<InstrumentedId, RatioSummary>;
  /** Paired trials: the no-agent server against its twin beside it (1 but for noise); null when run unpaired. */
  twins: RatioSummary | null;
  /** Null without /proc. */
  cpuRatios: Record<InstrumentedId, CpuRatioSummary | null>;
  verdicts: Partial<Record<InstrumentedId, Verdict>>;
  interference: Interference;
  /** One line per check of the instrumented variants; a line starting with "FAILED" voids the figure. */
  checks: string[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function medianOrNull(values: (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : median(values as number[]);
}

function maxOrNull(values: (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : Math.max(...(values as number[]));
}

function summarise(trials: Trial[]): VariantSummary {
  const values = trials.map((t) => t.reqPerSec);
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return {
    median: m,
    min,
    max,
    spreadPct: ((max - min) / m) * 100,
    rounds: values,
    cpuUsPerRequest: medianOrNull(trials.map((t) => t.cpuUsPerRequest)),
    serverBusyPct: medianOrNull(trials.map((t) => t.serverBusyPct)),
    downstreamBusyPct: medianOrNull(trials.map((t) => t.downstreamBusyPct)),
  };
}

type Measure = 'reqPerSec' | 'cpuUsPerRequest';

/** What baselineFor reads of a trial: agent-overhead's Trial, or its JSON as the suite reads it. */
export interface PairableTrial {
  round: number;
  variant: string;
  reqPerSec: number;
  cpuUsPerRequest: number | null;
  pairing?: Pick<Pairing, 'besideReqPerSec' | 'besideCpuUsPerRequest'> | null;
}

/**
 * The no-agent figure `t` is held against: a paired trial's server beside it (same seconds, same CPU budget), else
 * its round's no-agent trial; for `none` itself only its twin beside it. Null where there is none.
 */
export function baselineFor<T extends PairableTrial>(t: T, trials: readonly T[], measure: Measure): number | null {
  if (t.pairing) return measure === 'reqPerSec' ? t.pairing.besideReqPerSec : t.pairing.besideCpuUsPerRequest;
  if (t.variant === 'none') return null;
  const base = trials.find((b) => b.variant === 'none' && b.round === t.round);
  return base === undefined ? null : base[measure];
}

/** variant/none of `measure`, trial by trial (baselineFor); NaN-free: trials missing either side are skipped. */
export function pairedRatios<T extends PairableTrial>(trials: readonly T[], variant: string, measure: Measure): number[] {
  const ratios: number[] = [];
  for (const t of trials) {
    if (t.variant !== variant) continue;
    const a = t[measure];
    const b = baselineFor(t, trials, measure);
    if (a !== null && b !== null && b > 0) ratios.push(a / b);
  }
  return ratios;
}

export function ratioSummary(ratios: number[]): RatioSummary {
  const ratio = median(ratios);
  return { ratio, min: Math.min(...ratios), max: Math.max(...ratios), costPct: (1 - ratio) * 100 };
}

const ratioOf = (trials: Trial[], variant: VariantId): RatioSummary => ratioSummary(pairedRatios(trials, variant, 'reqPerSec'));

/** none beside none: what a pair reads with no difference between its servers, the pairs' noise. Null unpaired. */
function twinsOf(trials: Trial[]): RatioSummary | null {
  const ratios = pairedRatios(trials, 'none', 'reqPerSec');
  return ratios.length === 0 ? null : ratioSummary(ratios);
}

function cpuRatioOf(trials: Trial[], variant: VariantId): CpuRatioSummary | null {
  const ratios = pairedRatios(trials, variant, 'cpuUsPerRequest');
  if (ratios.length === 0) return null;
  const ratio = median(ratios);
  return {
    ratio,
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    extraPct: (ratio - 1) * 100,
    throughputCostPct: (1 - 1 / ratio) * 100,
  };
}

/** `text` for `seen` of `of`, with the share and whether it passes. */
function seenLine(text: string, seen: number, of: number): string {
  const p = of > 0 ? seen / of : 0;
  const verdict = p >= MIN_SEEN_SHARE ? 'ok' : `FAILED (under ${MIN_SEEN_SHARE * 100} %: the figure measures an instrumentation that did not run)`;
  return `${text} (${(p * 100).toFixed(1)} %) ${verdict}`;
}

/** What a case's instrumentation must have seen, for its checks. */
export interface CaseExpectations {
  /**
   * Whether the model's requests go through node:http. Where they do not, OTel's HttpInstrumentation sees nothing by
   * design: said plainly, not failed, since that is what a user of that server would get.
   */
  otelServerSpans: boolean;
  /**
   * Where the processes that serve cannot be asked what the OTel and prom-client preloads saw (BenchModel): why.
   * Null where they are asked.
   */
  preloadUnreachable: string | null;
  /** Whether each request makes one node:http call, which HttpInstrumentation makes a CLIENT span of. */
  otelClientSpans: boolean;
  /** Where the server makes calls OTel does not see (fetch, without an undici instrumentation): why, for the report. */
  otelUnseenCalls: string | null;
  /**
   * Where the agent must time outgoing calls by itself (an app without stage marks): the least downstream per
   * request it may report, ms, and what that is, for the report. An agent whose call timing did not run reports 0.
   */
  downstream: { minMs: number; what: string } | null;
}

/** The downstream the agent timed per request, each trial against the least it may be. */
function downstreamLine(variant: VariantId, trials: Trial[], want: NonNullable<CaseExpectations['downstream']>): string {
  const values = trials.map((t) => t.downstreamMsPerRequest ?? 0);
  const low = Math.min(...values);
  const verdict = low > want.minMs ? 'ok' : `FAILED (a round at or under ${want.minMs} ms: the agent did not time the app's outgoing calls)`;
  return (
    `${variant}: downstream the agent timed: ${median(values).toFixed(2)} ms per request (rounds ${low.toFixed(2)}..${Math.max(...values).toFixed(2)}), ` +
    `must be over ${want.minMs} ms (${want.what}) ${verdict}`
  );
}

function checksOf(trials: Trial[], expect: CaseExpectations): string[] {
  const lines: string[] = [];
  for (const variant of VARIANTS) {
    const mine = trials.filter((t) => t.variant === variant);
    const errors = mine.reduce((n, t) => n + t.errors + t.non2xx, 0);
    if (errors > 0) lines.push(`FAILED ${variant}: ${errors} errors or non-2xx responses`);
    for (const t of mine) for (const p of t.problems) lines.push(`FAILED ${variant} round ${t.round + 1}: ${p}`);
    if (variant === 'none') continue;
    if (mine.length === 0) {
      lines.push(`${variant}: not run (--variants)`);
      continue;
    }
    const seen = mine.reduce((n, t) => n + (t.seen ?? 0), 0);
    const responses = mine.reduce((n, t) => n + t.responses, 0);
    if (variant === 'otel') {
      lines.push(...otelChecks(mine, seen, responses, expect));
      continue;
    }
    if (variant === 'prom-client' && !expect.otelServerSpans) {
      // Its histogram is observed from node:http's request channel, as an app's middleware would be.
      const unseen = 'this model does not use node:http (prom-client/none is the cost of the loaded library alone)';
      if (expect.preloadUnreachable !== null) lines.push(`prom-client: not run: ${unseen}; not counted: ${expect.preloadUnreachable}`);
      else lines.push(seen === 0 ? `prom-client: 0 observations: ${unseen}` : `prom-client: ${seen} observations on a model that does not use node:http: unexpected, look into it`);
      continue;
    }
    lines.push(seenLine(`${variant}: ${mine[0].seenWhat ?? 'requests'}: ${seen} for ${responses} responses`, seen, responses));
    // Only the agent times the app's outgoing calls; prom-client's histogram is of the requests alone.
    if (expect.downstream !== null && variant !== 'prom-client') lines.push(downstreamLine(variant, mine, expect.downstream));
    if (variant === 'exemplars') {
      const sum = (f: (e: NonNullable<Trial['exemplars']>) => number) => mine.reduce((n, t) => n + (t.exemplars === null ? 0 : f(t.exemplars)), 0);
      const [slowest, kept, sampled] = [sum((e) => e.slowest), sum((e) => e.expectedSlowest), sum((e) => e.sampled)];
      lines.push(seenLine(`exemplars: spans of the slowest requests at the collector: ${slowest} of ${kept} the agent kept, and ${sampled} sampled`, slowest, kept));
    }
  }
  return lines;
}

/** `servers`: SERVER spans over the otel trials. */
function otelChecks(trials: Trial[], servers: number, responses: number, expect: CaseExpectations): string[] {
  if (!expect.otelServerSpans && expect.preloadUnreachable !== null) {
    return [`otel: spans not counted: this model does not use node:http, so HttpInstrumentation makes none (otel/none is the cost of the loaded SDK alone), and ${expect.preloadUnreachable}`];
  }
  if (!expect.otelServerSpans) {
    return [
      servers === 0
        ? 'otel: saw 0 server spans: this model does not use node:http (otel/none is the cost of the loaded SDK alone)'
        : `otel: saw ${servers} spans for ${responses} responses on a model that does not use node:http: unexpected, look into it`,
    ];
  }
  const lines = [seenLine(`otel: OTel server spans exported: ${servers} for ${responses} responses`, servers, responses)];
  const clients = trials.reduce((n, t) => n + (t.otelClientSpans ?? 0), 0);
  if (expect.otelClientSpans) lines.push(seenLine(`otel: OTel client spans exported: ${clients} for ${responses} responses`, clients, responses));
  else if (expect.otelUnseenCalls !== null) lines.push(`otel: ${clients} client spans: ${expect.otelUnseenCalls}`);
  return lines;
}

/** The trials of one model and workload, summarised, checked against what its instrumentation must have seen. */
export function summariseCase(model: string, workload: string, expect: CaseExpectations, all: Trial[]): CaseSummary {
  const trials = all.filter((t) => t.model === model && t.workload === workload);
  const variants = Object.fromEntries(
    VARIANTS.map((v) => [v, summarise(trials.filter((t) => t.variant === v).sort((a, b) => a.round - b.round))]),
  ) as Record<VariantId, VariantSummary>;
  const ratios = Object.fromEntries(INSTRUMENTED.map((v) => [v, ratioOf(trials, v)])) as Record<InstrumentedId, RatioSummary>;
  const verdicts: Partial<Record<InstrumentedId, Verdict>> = {};
  for (const v of INSTRUMENTED) {
    const target = TARGET_COST_PCT[v];
    if (target !== undefined) verdicts[v] = { targetCostPct: target, costPct: ratios[v].costPct, met: ratios[v].costPct <= target };
  }
  return {
    model,
    workload,
    variants,
    ratios,
    twins: twinsOf(trials),
    cpuRatios: Object.fromEntries(INSTRUMENTED.map((v) => [v, cpuRatioOf(trials, v)])) as Record<InstrumentedId, CpuRatioSummary | null>,
    verdicts,
    interference: {
      maxOtherCpuPct: maxOrNull(trials.map((t) => t.otherCpuPct)),
      maxStealPct: maxOrNull(trials.map((t) => t.stealPct)),
    },
    checks: checksOf(trials, expect),
  };
}

/**
 * Round r runs the variants rotated by r, so no variant always runs first (cold) or last. A rotation keeps the
 * cycle, so a variant not first always follows the same one. Four rounds put each of the four in every position once.
 */
export function roundOrder(round: number, variants: readonly VariantId[] = VARIANTS): VariantId[] {
  return variants.map((_, i) => variants[(i + round) % variants.length]);
}
