/**
 * Seeded pseudo-random numbers for arrivals, think times and the request mix, so that a scenario with a seed sends
 * the same sequence every run (Math.random cannot be seeded). mulberry32: 32-bit state, one multiply-xorshift per
 * draw, no allocation; its quality is ample for spacing requests, and it is not for anything secret.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    // Spread small seeds (1, 2, 3...) over the state space so neighbouring seeds do not start alike.
    this.state = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
