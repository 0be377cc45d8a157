/** Picks each request's mix entry by weight, from a seeded stream: the same seed, the same sequence of kinds. */
import { Random } from '../../vocabulary/random.js';

export class MixPicker {
  /** Cumulative weights, normalised to end at 1. */
  private readonly bounds: Float64Array;

  constructor(weights: readonly number[], private readonly random: Random) {
    const total = weights.reduce((a, w) => a + w, 0);
    let acc = 0;
    this.bounds = Float64Array.from(weights, (w) => (acc += w) / total);
  }

  pick(): number {
    const b = this.bounds;
    if (b.length === 1) return 0;
    const u = this.random.next();
    // Mixes are short lists: a linear scan beats a binary search's branches.
    for (let i = 0; i < b.length - 1; i++) if (u < b[i]) return i;
    return b.length - 1;
  }
}
