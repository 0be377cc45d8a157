import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, fuzzedStream, serveModel, servesGet, type Outcome, type Served } from '../helpers/http-fuzz.js';

// The fast share of issue 19's HTTP fuzz: the raw event loop, whose parser is our own (test/reliability/ runs every model).
let served: Served;
beforeAll(async () => void (served = await serveModel('event-loop-raw')));
afterAll(() => served?.stop());

describe('event-loop-raw, sent fuzzed HTTP', () => {
  it('answers each stream with a status below 500 or closes it, and goes on serving', async () => {
    const outcomes: Outcome[] = [];
    await fc.assert(
      fc.asyncProperty(fuzzedStream, async (bytes) => {
        const outcome = await exchange(served.port, bytes);
        outcomes.push(outcome);
        expect(outcome.kind === 'closed' || (outcome.kind === 'answered' && outcome.status < 500), JSON.stringify(bytes.subarray(0, 80).toString('latin1'))).toBe(true);
      }),
      { numRuns: 150, seed: 19 },
    );
    expect(served.child.exitCode).toBeNull();
    expect(await servesGet(served.port)).toBe(true);
    // Both outcomes are reached: a fuzzer that only ever sent valid requests would test nothing.
    expect(outcomes.filter((o) => o.kind === 'answered' && o.status >= 400).length).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o.kind === 'answered' && o.status === 200).length).toBeGreaterThan(10);
  });
});
