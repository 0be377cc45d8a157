/**
 * What-if, checked: a size sweep's measured capacities against what a fit of the other sizes predicts for each
 * (leave one out), so a reader sees how far a prediction of the fit is to be trusted before acting on one. The fit
 * is the USL with lambda, one context's throughput, measured apart from the sweep's capacities (the caller says how:
 * 1000 / the time a request held its context for a pool, 1000 / the CPU per request for a core), so three sizes fit
 * sigma and kappa with a residual to spare. Pure: points in, predictions out.
 */
import { fitUsl, uslThroughput, type UslResult } from './usl.js';

export interface SweepPoint {
  /** The size swept (threads, processes). */
  n: number;
  /** The measured capacity at that size (the most its probes answered), req/s; null where none was measured. */
  measured_rps: number | null;
}

export interface SweepCheck {
  n: number;
  measured_rps: number | null;
  /** The USL fitted to every other size, evaluated here; null where that fit was refused (`basis` says why). */
  predicted_rps: number | null;
  /** (predicted - measured) / measured. */
  error: number | null;
  basis: string;
}

export interface SweepAnalysis {
  /** lambda, req/s per context, and what it was taken from. */
  lambda: { rps: number; basis: string } | null;
  /** The USL over every size. */
  fit: UslResult;
  points: SweepCheck[];
}

export function sweepPredictions(points: readonly SweepPoint[], lambda: SweepAnalysis['lambda']): SweepAnalysis {
  const measured = points.filter((p): p is SweepPoint & { measured_rps: number } => p.measured_rps !== null && p.measured_rps > 0);
  const opts = lambda ? { lambda: lambda.rps } : {};
  const fit = fitUsl(measured.map((p) => ({ n: p.n, x: p.measured_rps })), opts);
  return {
    lambda,
    fit,
    points: points.map((p) => {
      const others = measured.filter((o) => o.n !== p.n);
      const loo = fitUsl(others.map((o) => ({ n: o.n, x: o.measured_rps })), opts);
      if (!loo.ok) return { n: p.n, measured_rps: p.measured_rps, predicted_rps: null, error: null, basis: `not predicted: ${loo.reason}` };
      const predicted = uslThroughput(loo.fit, p.n);
      return {
        n: p.n,
        measured_rps: p.measured_rps,
        predicted_rps: Number(predicted.toFixed(1)),
        error: p.measured_rps ? Number(((predicted - p.measured_rps) / p.measured_rps).toFixed(4)) : null,
        basis: `USL of the other ${others.length} sizes (sigma ${loo.fit.sigma.toFixed(4)}, kappa ${loo.fit.kappa.toFixed(5)}${lambda ? ', lambda measured' : ''})`,
      };
    }),
  };
}
