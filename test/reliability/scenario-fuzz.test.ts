import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkScenarioText, inputsThatWarn, mutatedScenario } from '../helpers/scenario-mutations.js';

describe('10,000 mutated scenario files (issue 19)', () => {
  it('are each a located error or a run plan: never a crash or a hang', () => {
    const seen = { valid: 0, invalid: 0 };
    let slowest = 0;
    const warned = inputsThatWarn((onInput) => fc.assert(
      fc.property(mutatedScenario, (text) => {
        onInput(text);
        const start = performance.now();
        seen[checkScenarioText(text)]++;
        slowest = Math.max(slowest, performance.now() - start);
        // A hang, not a speed target: an alias bomb or a huge list let through takes seconds or forever.
        expect(performance.now() - start).toBeLessThan(2000);
      }),
      { numRuns: 10_000, seed: 1919 },
    ));
    expect(warned.slice(0, 1)).toEqual([]);
    console.log(`scenario fuzz: 10000 inputs, ${seen.valid} valid plans, ${seen.invalid} located errors, 0 crashes, slowest ${slowest.toFixed(0)} ms`);
    expect(seen.valid + seen.invalid).toBe(10_000);
  });
});
