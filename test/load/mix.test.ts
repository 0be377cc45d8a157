import { describe, expect, it } from 'vitest';
import { MixPicker } from '../../src/load/arrivals/mix.js';
import { Random } from '../../src/vocabulary/random.js';
import { workloadPath } from '../../src/load/connections/request-bytes.js';

describe('MixPicker', () => {
  it('picks by weight, and the same seed picks the same sequence', () => {
    const picks = (seed: number) => {
      const p = new MixPicker([1, 2, 7], new Random(seed));
      return Array.from({ length: 10_000 }, () => p.pick());
    };
    const a = picks(5);
    expect(picks(5)).toEqual(a);
    expect(picks(6)).not.toEqual(a);
    const shares = [0, 1, 2].map((i) => a.filter((x) => x === i).length / a.length);
    expect(shares[0]).toBeCloseTo(0.1, 1);
    expect(shares[1]).toBeCloseTo(0.2, 1);
    expect(shares[2]).toBeCloseTo(0.7, 1);
  });
});

describe('workloadPath', () => {
  it('appends the workload to the query string, after any query already there', () => {
    expect(workloadPath('/a', { process_us: 2000, backend_calls: 0 })).toBe('/a?process_us=2000&backend_calls=0');
    expect(workloadPath('/a?x=1', { parse_us: 5 })).toBe('/a?x=1&parse_us=5');
    expect(workloadPath('/a', {})).toBe('/a');
    expect(workloadPath('/a', undefined)).toBe('/a');
  });
});
