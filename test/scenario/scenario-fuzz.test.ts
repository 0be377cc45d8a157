import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkScenarioText, inputsThatWarn, mutatedScenario, SHIPPED_TEXTS } from '../helpers/scenario-mutations.js';
import { parseScenario } from '../../src/scenario/read-scenario.js';

// The fast share of issue 19's 10,000 (test/reliability/scenario-fuzz.test.ts runs them all).
describe('mutated scenario files', () => {
  it('are each a located error or a run plan: never a crash or a hang', () => {
    const seen = { valid: 0, invalid: 0 };
    const warned = inputsThatWarn((onInput) =>
      fc.assert(fc.property(mutatedScenario, (text) => void (onInput(text), seen[checkScenarioText(text)]++)), { numRuns: 400, seed: 19 }),
    );
    expect(warned).toEqual([]);
    // Both outcomes are reached: a mutator that only ever broke the files would not test the run plans.
    expect(seen.valid).toBeGreaterThan(10);
    expect(seen.invalid).toBeGreaterThan(100);
  });

  it('with keys that are lists, mappings or binary are located errors, not warnings', () => {
    const text = 'name: a\n? [x, y]\n: 1\n!!binary bG9hZA==: 2\n';
    expect(inputsThatWarn(() => expect(() => parseScenario(text, 'k.yaml')).toThrow('k.yaml:2:3: YAML: a key must be a word, not a list, a mapping or binary\nk.yaml:4:10: YAML: a key must be a word, not a list, a mapping or binary'))).toEqual([]);
  });

  it('shipped scenarios are valid plans', () => {
    for (const text of SHIPPED_TEXTS) expect(checkScenarioText(text)).toBe('valid');
  });

  it('refuse what no machine runs, naming the limit', () => {
    const base = 'name: big\nservers: [{ name: a, model: event-loop, size: { threads: 100000 } }]\nworkload: { response_bytes: 9007199254740993 }\nload:\n  connections: 10000000\n  phases: [{ name: p, rate: 1.0e+300, duration_s: 1.0e+9 }]\n';
    expect(() => parseScenario(base, 'big.yaml')).toThrow(
      expect.objectContaining({
        problems: [
          expect.objectContaining({ line: 2, path: 'servers[0].size.threads', message: expect.stringContaining('from 1 to 1024') }),
          expect.objectContaining({ line: 3, path: 'workload.response_bytes', message: expect.stringContaining('to 67108864') }),
          expect.objectContaining({ line: 5, path: 'load.connections', message: expect.stringContaining('from 1 to 100000') }),
          expect.objectContaining({ line: 6, path: 'load.phases[0].rate', message: expect.stringContaining('at most 1000000') }),
          expect.objectContaining({ line: 6, path: 'load.phases[0].duration_s', message: expect.stringContaining('at most 86400') }),
        ],
      }),
    );
  });
});
