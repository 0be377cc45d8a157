/**
 * The capacity search for one server: step the rate up until a probe fails, bisect between the last pass and the
 * first failure, then confirm the rate found over a longer window (backing off a step if the confirmation fails).
 * Pure control flow over an injected `probe`, so it is tested with a synthetic server and run with real ones.
 */
import type { CapacitySettings } from '../schema.js';
import type { GaveOut, ProbeVerdict } from '../../analysis/capacity-verdict.js';

export type Probe = (rate: number, seconds: number) => Promise<ProbeVerdict>;

/** Why the search ended where it did, beyond what gave out in a probe. */
export type SearchEnd = GaveOut | 'max_rps' | 'time' | 'no-server' | 'run-failed';

export interface ServerCapacity {
  server: string;
  model: string;
  /** Highest rate that passed (confirmed when `confirmed`); null when none passed. */
  max_sustainable_rps: number | null;
  slo: string;
  reason: string;
  gave_out: SearchEnd;
  confirmed: boolean;
  probes: ProbeVerdict[];
}

/** Confirmations tried, backing off by the precision each time, before the search settles for an unconfirmed rate. */
const CONFIRM_TRIES = 2;
/** Below this the search stops stepping down: a server that cannot serve 1 req/s within the SLO has no capacity. */
const MIN_RPS = 1;

/** Rates read better (and repeat across runs) with three significant digits. */
export function roundRate(r: number): number {
  return Math.max(MIN_RPS, Number(r.toPrecision(3)));
}

export interface SearchContext {
  settings: CapacitySettings;
  /** May the search start a probe of this many measured seconds? (the time budget) */
  canProbe(seconds: number): boolean;
  probe: Probe;
}

export async function searchCapacity(ctx: SearchContext): Promise<Pick<ServerCapacity, 'max_sustainable_rps' | 'reason' | 'gave_out' | 'confirmed' | 'probes'>> {
  const { settings: s } = ctx;
  const probes: ProbeVerdict[] = [];
  let pass: ProbeVerdict | null = null;
  let fail: ProbeVerdict | null = null;
  let outOfTime = false;
  const run = async (rate: number, seconds: number): Promise<ProbeVerdict | null> => {
    if (!ctx.canProbe(seconds)) {
      outOfTime = true;
      return null;
    }
    let v = await ctx.probe(rate, seconds);
    probes.push(v);
    // The generator could not keep up: the measurement says nothing of the server. On a shared host that is often a
    // passing neighbour, so the probe is run once more before the failure counts.
    if (v.gave_out === 'generator' && ctx.canProbe(seconds)) {
      v = await ctx.probe(rate, seconds);
      probes.push(v);
    }
    return v;
  };

  // 1. Step up from start_rps until a probe fails; if the first one fails, step down until one passes.
  let rate = roundRate(Math.min(s.start_rps, s.max_rps));
  for (;;) {
    const v = await run(rate, s.probe_s);
    if (v === null) break;
    if (v.pass) {
      pass = v;
      if (fail !== null || rate >= s.max_rps) break;
      rate = roundRate(Math.min(rate * s.step_factor, s.max_rps));
    } else {
      fail = v;
      if (pass !== null || rate <= MIN_RPS) break;
      rate = roundRate(Math.max(MIN_RPS, rate / s.step_factor));
    }
  }

  // 2. Bisect until the highest pass and the lowest failure are within the precision.
  while (pass !== null && fail !== null && !outOfTime && (fail.rate - pass.rate) / pass.rate > s.precision) {
    const mid = roundRate((pass.rate + fail.rate) / 2);
    if (mid <= pass.rate || mid >= fail.rate) break;
    const v = await run(mid, s.probe_s);
    if (v === null) break;
    if (v.pass) pass = v;
    else fail = v;
  }

  // 3. Confirm over a longer window; a failure there is the better-measured one, so back off below it.
  let confirmed: number | null = null;
  let candidate = pass?.rate ?? null;
  for (let i = 0; candidate !== null && i < CONFIRM_TRIES && !outOfTime; i++) {
    const v = await run(candidate, s.confirm_s);
    if (v === null) break;
    if (v.pass) {
      confirmed = candidate;
      break;
    }
    const lower = roundRate(candidate * (1 - s.precision));
    candidate = lower < candidate && lower >= MIN_RPS ? lower : null;
  }

  // Unconfirmed, the answer is the highest rate that passed below every rate that failed: noise in short windows
  // can make a rate pass above one that failed, and the lower one is the one to trust.
  // A confirmed rate stands: what gave out is the lowest failure above it (a failure at or below it was a
  // generator that could not keep up, retried, or noise that the longer window outweighs).
  const failures = probes.filter((p) => !p.pass && (confirmed === null || p.rate > confirmed));
  // At equal rates the later probe wins: it is the retry, or the longer confirmation.
  const lowestFail = failures.reduce<ProbeVerdict | null>((lo, p) => (lo === null || p.rate <= lo.rate ? p : lo), null);
  const max = confirmed ?? probes.filter((p) => p.pass && p.rate < (lowestFail?.rate ?? Infinity)).reduce<number | null>((m, p) => Math.max(m ?? 0, p.rate), null);
  const note = confirmed !== null || max === null ? '' : ` (${max} req/s not confirmed over ${s.confirm_s} s${outOfTime ? ': out of time' : ''})`;
  if (lowestFail !== null) {
    return { max_sustainable_rps: max, reason: lowestFail.reason + note, gave_out: lowestFail.gave_out!, confirmed: confirmed !== null, probes };
  }
  if (outOfTime) {
    return { max_sustainable_rps: max, reason: `the time budget ran out before a limit was found${max === null ? '' : ` (${max} req/s passed)`}`, gave_out: 'time', confirmed: confirmed !== null, probes };
  }
  return { max_sustainable_rps: max, reason: `no limit found up to max_rps (${s.max_rps} req/s)${note}`, gave_out: 'max_rps', confirmed: confirmed !== null, probes };
}
