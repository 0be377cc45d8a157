/**
 * Seeded pseudo-random numbers: the generator's arrivals, think times and request mix, the backend's service times,
 * the tests' synthetic series. A seed gives the same sequence every run (Math.random cannot be seeded).
 * mulberry32: 32-bit state, one multiply-xorshift per draw, no allocation, full period; ample for spacing requests
 * and drawing service times (~10x faster than crypto), and not for anything secret.
 */

const STEP = 0x6d2b79f5;

/** mulberry32's output for a state: uniform in [0, 1). */
function draw(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A stream in [0, 1) from the seed as given (the backend's service times, tests). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => draw((a = (a + STEP) >>> 0));
}

export class Random {
  private state: number;

  constructor(seed: number) {
    // Spread small seeds (1, 2, 3...) over the state space so neighbouring seeds do not start alike.
    this.state = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return draw((this.state = (this.state + STEP) >>> 0));
  }

  /** Exponentially distributed with mean 1: the gap between Poisson arrivals of rate 1. */
  exp1(): number {
    // 1 - u is in (0, 1], so the log is finite.
    return -Math.log(1 - this.next());
  }
}

/** A seed for thread `i` of a run with base seed `seed`: independent streams whose union is still repeatable. */
export function threadSeed(seed: number, i: number): number {
  return (seed + Math.imul(i, 0x632be5ab)) >>> 0;
}
