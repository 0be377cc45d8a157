/**
 * The knee of a curve, by Kneedle (Satopää, Albrecht, Irwin, Raghavan, "Finding a 'Kneedle' in a Haystack", 2011):
 * normalise both axes to [0, 1], take the curve's distance from the diagonal through its ends, and call a local
 * maximum of that distance the knee once the distance has fallen by `sensitivity` times the mean x-step after it
 * (a bend that the following points confirm, not a wobble). Pure; x ascending.
 *
 * Throughput against offered load is concave (it follows the load, then flattens): its knee is where it stops
 * following. Latency against offered load is convex (flat, then rising): its knee is the last load before it turns up.
 */

/**
 * Satopää et al.'s S. 1 is their default for offline data; smaller calls a knee on a shallower bend, larger waits for
 * a sharper one. With the few steps of a scenario's phases, 1 means the distance must fall by one mean step after the
 * candidate: a bend at the last point cannot be confirmed, and is not called.
 */
export const KNEE_SENSITIVITY = 1;

export type CurveShape = 'concave' | 'convex';

/** The index of the knee of (xs, ys), or null where the curve has none (a straight line, a single bend unconfirmed). */
export function kneedle(xs: readonly number[], ys: readonly number[], shape: CurveShape, sensitivity = KNEE_SENSITIVITY): number | null {
  const n = xs.length;
  if (n < 3 || ys.length !== n) return null;
  const x0 = xs[0];
  const xSpan = xs[n - 1] - x0;
  const yMin = Math.min(...ys);
  const ySpan = Math.max(...ys) - yMin;
  if (!(xSpan > 0) || !(ySpan > 0)) return null;
  const xn = xs.map((x) => (x - x0) / xSpan);
  const yn = ys.map((y) => (y - yMin) / ySpan);
  // Concave: above the diagonal where it bends; convex: below it.
  const d = xn.map((x, i) => (shape === 'concave' ? yn[i] - x : x - yn[i]));
  const meanStep = 1 / (n - 1);
  for (let i = 1; i < n - 1; i++) {
    if (!(d[i] > d[i - 1] && d[i] >= d[i + 1])) continue;
    const threshold = d[i] - sensitivity * meanStep;
    for (let j = i + 1; j < n; j++) {
      // A higher local maximum before the fall: the knee is further on.
      if (d[j] > d[i]) break;
      if (d[j] < threshold) return i;
    }
  }
  return null;
}
