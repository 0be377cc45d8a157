/**
 * Gunther's Universal Scalability Law, fitted to throughput measured at several concurrencies:
 * X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1)). lambda is the throughput of one context, sigma the share
 * of the work that is serialised (contention: a lock, a single loop, a queue), kappa the cost of keeping contexts
 * coherent with one another (crosstalk: each pair pays, so it grows as N^2 and makes throughput fall past N*).
 * A capacity report needs more than "throughput stopped rising": it needs which of the two stops it and where the
 * peak lies, and it must not draw a curve through points that cannot tell. So the fit refuses, in words, where the
 * points cannot test it (too few levels, too narrow a span, values that are no measurement) or do not follow the
 * law (r2 too low). Pure and deterministic: points in, fit out; nothing is rounded here (the report rounds).
 *
 * How: for fixed sigma and kappa the least-squares lambda is closed form (sum x g / sum g^2, g = X(N) / lambda), so
 * only sigma and kappa are searched: a log-spaced grid that includes 0 (both are constrained >= 0 and 0 is a real
 * answer: no crosstalk), zoomed in around the best cell, then polished by Nelder-Mead on (sqrt sigma, sqrt kappa),
 * which keeps both >= 0 without a penalty. Every step is a fixed sequence of evaluations: same points, same fit.
 */

/** One measurement: concurrency (contexts, users, or Little's N = X R) and the throughput there, req/s. */
export interface UslPoint {
  n: number;
  x: number;
}

export interface UslFit {
  /** Throughput of one context, req/s (given, or fitted). */
  lambda: number;
  /** Contention: the serialised share, >= 0. */
  sigma: number;
  /** Crosstalk (coherency), per pair of contexts, >= 0. */
  kappa: number;
  /** The concurrency of peak throughput, sqrt((1 - sigma) / kappa); null where throughput never peaks (kappa 0 or sigma >= 1). */
  n_star: number | null;
  /** The throughput at n_star, req/s; null with it. */
  peak_rps: number | null;
  /** 1 - SSres / SStot on the throughputs. */
  r2: number;
  points: number;
}

export type UslResult = { ok: true; fit: UslFit } | { ok: false; reason: string; points: number };

/** The thresholds, each with why it is that wide. */
export const USL_LIMITS = {
  /**
   * Distinct concurrencies for a fit of lambda, sigma and kappa: three levels fit three parameters exactly, whatever
   * the points are (no residual, so r2 is 1 and says nothing); a fourth is the first that can disagree with the law.
   */
  minPoints: 4,
  /** The same with lambda measured independently (one context's throughput): two parameters, so three levels. */
  minPointsGivenLambda: 3,
  /**
   * Largest over smallest concurrency: over a narrow range the curve is nearly a straight line, which any mix of
   * contention and crosstalk draws equally well, so the split between them (and N*) would be the noise's.
   */
  minSpan: 2,
  /**
   * The share of the throughput's variance the fitted curve must explain: below it the points do not follow the law
   * (a saturated or erratic server, a phase that changed mid-run), and sigma, kappa and N* would describe no server.
   */
  minR2: 0.9,
} as const;

/** The search, each figure with why it suffices. */
const SEARCH = {
  /**
   * sigma from 1e-6 (a millionth serialised: indistinguishable from 0 below ~1e5 contexts) to 10 (throughput falling
   * from the second context on), an eighth of a decade apart; 0 is added.
   */
  sigmaDecades: [-6, 1],
  /** kappa from 1e-12 (crosstalk that matters only past ~1e6 contexts) to 10, as sigma; 0 is added. */
  kappaDecades: [-12, 1],
  perDecade: 8,
  /** Each zoom spans the best point's two neighbours with this many points a side, i.e. a step 1/8 of the last. */
  zoomPoints: 8,
  zooms: 6,
  /** Nelder-Mead: at most this many steps (2 parameters converge in well under 200), twice (a restart unsticks a flat simplex). */
  polishSteps: 400,
  polishRuns: 2,
  /** Stop when the simplex's values agree within this share of the best (double precision leaves ~1e-16). */
  polishTolerance: 1e-14,
} as const;

/**
 * The sum of squares below which a series is taken as flat (SStot 0) or a fit as exact (SSres 0), as a share of
 * sum x^2: a few ulps of rounding over the sums, far below any measured throughput's noise.
 */
const EXACT_SHARE = 1e-12;

/** X(N) for a fit; NaN-free for n > 0 where the denominator is positive (always, for n >= 1). */
export function uslThroughput(fit: Pick<UslFit, 'lambda' | 'sigma' | 'kappa'>, n: number): number {
  return (fit.lambda * n) / denominator(fit.sigma, fit.kappa, n);
}

const denominator = (sigma: number, kappa: number, n: number) => 1 + sigma * (n - 1) + kappa * n * (n - 1);

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/**
 * Fits the law to `points`. `opts.lambda`: one context's throughput measured independently (e.g. 1 / service time),
 * then only sigma and kappa are fitted and three concurrencies suffice.
 */
export function fitUsl(points: readonly UslPoint[], opts: { lambda?: number } = {}): UslResult {
  const count = points.length;
  const refuse = (reason: string): UslResult => ({ ok: false, reason, points: count });
  const given = opts.lambda;
  if (given !== undefined && !(Number.isFinite(given) && given > 0)) return refuse(`the given lambda (${given}) is not a positive finite throughput`);
  const bad = points.find((p) => !Number.isFinite(p.n) || !Number.isFinite(p.x) || p.n <= 0 || p.x < 0);
  if (bad) return refuse(`a point (n ${bad.n}, x ${bad.x}) is no measurement: concurrency must be finite and > 0, throughput finite and >= 0`);
  const levels = new Set(points.map((p) => p.n)).size;
  const parameters = given === undefined ? 3 : 2;
  const needed = given === undefined ? USL_LIMITS.minPoints : USL_LIMITS.minPointsGivenLambda;
  if (levels < needed) {
    const what = levels === count ? plural(count, 'point') : `${plural(count, 'point')} at ${plural(levels, 'concurrency level')}`;
    return refuse(`${what} cannot test a ${parameters}-parameter fit: give ${needed} or more concurrency levels`);
  }
  const ns = points.map((p) => p.n);
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  if (hi / lo < USL_LIMITS.minSpan) {
    return refuse(
      `concurrency spans only a factor ${(hi / lo).toFixed(2)} (${lo} to ${hi}): throughput over so narrow a range says nothing of contention; give levels spanning a factor ${USL_LIMITS.minSpan} or more`,
    );
  }
  const sumX2 = points.reduce((s, p) => s + p.x * p.x, 0);
  if (sumX2 === 0) return refuse('every throughput is 0: there is nothing to fit');

  const best = search(points, given);
  const { lambda, sse } = evaluate(points, best.sigma, best.kappa, given);
  const mean = points.reduce((s, p) => s + p.x, 0) / count;
  const ssTot = points.reduce((s, p) => s + (p.x - mean) ** 2, 0);
  const exact = sse <= EXACT_SHARE * sumX2;
  const r2 = ssTot <= EXACT_SHARE * sumX2 ? (exact ? 1 : 0) : exact ? 1 : 1 - sse / ssTot;
  if (!(r2 >= USL_LIMITS.minR2)) {
    return refuse(`the points do not follow the law: r2 ${r2.toFixed(3)} is below ${USL_LIMITS.minR2} (sigma ${best.sigma.toPrecision(3)}, kappa ${best.kappa.toPrecision(3)})`);
  }
  const { sigma, kappa } = best;
  const n_star = kappa > 0 && sigma < 1 ? Math.sqrt((1 - sigma) / kappa) : null;
  const peak_rps = n_star === null ? null : uslThroughput({ lambda, sigma, kappa }, n_star);
  return { ok: true, fit: { lambda, sigma, kappa, n_star, peak_rps, r2, points: count } };
}

interface Evaluation {
  lambda: number;
  sse: number;
}

/** The sum of squared residuals at (sigma, kappa), with lambda given or its least-squares value. */
function evaluate(points: readonly UslPoint[], sigma: number, kappa: number, given: number | undefined): Evaluation {
  let sxg = 0;
  let sgg = 0;
  for (const p of points) {
    const d = denominator(sigma, kappa, p.n);
    // Below n = 1 a large sigma or kappa can make the denominator <= 0: no throughput is negative or infinite.
    if (!(d > 0)) return { lambda: 0, sse: Infinity };
    const g = p.n / d;
    sxg += p.x * g;
    sgg += g * g;
  }
  const lambda = given ?? (sgg > 0 ? sxg / sgg : 0);
  let sse = 0;
  for (const p of points) {
    const r = p.x - (lambda * p.n) / denominator(sigma, kappa, p.n);
    sse += r * r;
  }
  return { lambda, sse };
}

interface Candidate {
  sigma: number;
  kappa: number;
  sse: number;
}

const logGrid = ([from, to]: readonly number[], perDecade: number): number[] => {
  const out = [0];
  for (let i = 0; i <= (to - from) * perDecade; i++) out.push(10 ** (from + i / perDecade));
  return out;
};

const SIGMAS = logGrid(SEARCH.sigmaDecades, SEARCH.perDecade);
const KAPPAS = logGrid(SEARCH.kappaDecades, SEARCH.perDecade);

/** Lower sse wins; on a tie the smaller sigma, then kappa (the simpler curve), so the order of evaluation never decides. */
const better = (a: Candidate, b: Candidate) => a.sse < b.sse || (a.sse === b.sse && (a.sigma < b.sigma || (a.sigma === b.sigma && a.kappa < b.kappa)));

function search(points: readonly UslPoint[], given: number | undefined): Candidate {
  const at = (sigma: number, kappa: number): Candidate => ({ sigma, kappa, sse: evaluate(points, sigma, kappa, given).sse });
  let best = at(0, 0);
  let si = 0;
  let ki = 0;
  for (let i = 0; i < SIGMAS.length; i++) {
    for (let j = 0; j < KAPPAS.length; j++) {
      const c = at(SIGMAS[i], KAPPAS[j]);
      if (better(c, best)) [best, si, ki] = [c, i, j];
    }
  }
  // Zoom: a linear grid between the best point's neighbours, then between the new best's neighbours, and so on.
  let sLo = SIGMAS[Math.max(si - 1, 0)];
  let sHi = SIGMAS[Math.min(si + 1, SIGMAS.length - 1)];
  let kLo = KAPPAS[Math.max(ki - 1, 0)];
  let kHi = KAPPAS[Math.min(ki + 1, KAPPAS.length - 1)];
  for (let z = 0; z < SEARCH.zooms; z++) {
    const sStep = (sHi - sLo) / (2 * SEARCH.zoomPoints);
    const kStep = (kHi - kLo) / (2 * SEARCH.zoomPoints);
    for (let i = 0; i <= 2 * SEARCH.zoomPoints; i++) {
      for (let j = 0; j <= 2 * SEARCH.zoomPoints; j++) {
        const c = at(sLo + i * sStep, kLo + j * kStep);
        if (better(c, best)) best = c;
      }
    }
    [sLo, sHi] = [Math.max(best.sigma - sStep, 0), best.sigma + sStep];
    [kLo, kHi] = [Math.max(best.kappa - kStep, 0), best.kappa + kStep];
  }
  // Polish: Nelder-Mead on (sqrt sigma, sqrt kappa), started with steps of the last zoom's cell.
  for (let run = 0; run < SEARCH.polishRuns; run++) {
    const polished = nelderMead(
      (u, v) => at(u * u, v * v),
      Math.sqrt(best.sigma),
      Math.sqrt(best.kappa),
      Math.max(Math.sqrt(best.sigma + sHi - sLo) - Math.sqrt(best.sigma), Number.MIN_VALUE),
      Math.max(Math.sqrt(best.kappa + kHi - kLo) - Math.sqrt(best.kappa), Number.MIN_VALUE),
    );
    if (better(polished, best)) best = polished;
  }
  // On (sqrt sigma, sqrt kappa) the polish nears a bound of 0 geometrically and never reaches it (kappa ~1e-19 where
  // the best kappa is 0): where the bound fits as well, within what the polish tells apart, the bound is the answer.
  for (const bound of [at(best.sigma, 0), at(0, best.kappa), at(0, 0)]) {
    if (bound.sse <= best.sse * (1 + SEARCH.polishTolerance)) best = bound;
  }
  return best;
}

/** Nelder-Mead in two dimensions with the usual coefficients (reflect 1, expand 2, contract 1/2, shrink 1/2). */
function nelderMead(f: (u: number, v: number) => Candidate, u0: number, v0: number, du: number, dv: number): Candidate {
  type Vertex = { u: number; v: number; c: Candidate };
  const vertex = (u: number, v: number): Vertex => ({ u, v, c: f(u, v) });
  let simplex: Vertex[] = [vertex(u0, v0), vertex(u0 + du, v0), vertex(u0, v0 + dv)];
  const order = () => simplex.sort((a, b) => (better(a.c, b.c) ? -1 : better(b.c, a.c) ? 1 : 0));
  for (let step = 0; step < SEARCH.polishSteps; step++) {
    order();
    const [b, m, w] = simplex;
    if (w.c.sse - b.c.sse <= SEARCH.polishTolerance * b.c.sse) break;
    const cu = (b.u + m.u) / 2;
    const cv = (b.v + m.v) / 2;
    const r = vertex(2 * cu - w.u, 2 * cv - w.v);
    if (better(r.c, b.c)) {
      const e = vertex(3 * cu - 2 * w.u, 3 * cv - 2 * w.v);
      simplex = [b, m, better(e.c, r.c) ? e : r];
    } else if (better(r.c, m.c)) {
      simplex = [b, m, r];
    } else {
      const outside = better(r.c, w.c);
      const k = outside ? vertex(cu + (r.u - cu) / 2, cv + (r.v - cv) / 2) : vertex(cu + (w.u - cu) / 2, cv + (w.v - cv) / 2);
      if (better(k.c, outside ? r.c : w.c)) simplex = [b, m, k];
      else simplex = [b, vertex((b.u + m.u) / 2, (b.v + m.v) / 2), vertex((b.u + w.u) / 2, (b.v + w.v) / 2)];
    }
  }
  order();
  return simplex[0].c;
}
