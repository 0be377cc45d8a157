import fc from 'fast-check';
import { describe, it } from 'vitest';
import { MODEL_IDS } from '../../src/vocabulary/index.js';
import { exchange, fuzzedStream, serveModel, servesGet, slowloris, type Outcome } from '../helpers/http-fuzz.js';

/**
 * Slow clients a model can hold while it serves others: fewer than its contexts (prefork's default is 4 processes). The iterative server serves one
 * connection at a time by design, so one slow client stops it until that client goes (checked as such below).
 */
const SLOW_CLIENTS = 3;

// The models are fuzzed at once (each by one client, one stream at a time): the fuzz asks what a server answers, not
// how fast, and one after another they took three of the suite's fifteen minutes.
describe.concurrent.each(MODEL_IDS)('%s, sent fuzzed HTTP (issue 19)', (model) => {
  it('answers each stream with a status below 500 or closes it, survives slow clients, and goes on serving', async ({ expect }) => {
    const served = await serveModel(model);
    try {
      const outcomes: Outcome[] = [];
      await fc.assert(
        fc.asyncProperty(fuzzedStream, async (bytes) => {
          const outcome = await exchange(served.port, bytes);
          outcomes.push(outcome);
          expect(outcome.kind === 'closed' || (outcome.kind === 'answered' && outcome.status < 500), `${model}: ${JSON.stringify(outcome)} for ${JSON.stringify(bytes.subarray(0, 80).toString('latin1'))}`).toBe(true);
        }),
        { numRuns: 200, seed: 1919 },
      );
      expect(served.child.exitCode, `${model} exited`).toBeNull();
      expect(await servesGet(served.port), `${model} serves after the fuzz`).toBe(true);
      const slow = slowloris(served.port, model === 'iterative' ? 1 : SLOW_CLIENTS, 3000);
      await new Promise((r) => setTimeout(r, 500));
      const during = await servesGet(served.port, 2000);
      await slow;
      if (model === 'iterative') expect(during, 'the iterative server is held by its one slow client').toBe(false);
      else expect(during, `${model} serves beside ${SLOW_CLIENTS} slow clients`).toBe(true);
      expect(await servesGet(served.port, 5000), `${model} serves once the slow clients go`).toBe(true);
      const count = (k: string) => outcomes.filter((o) => o.kind === k).length;
      console.log(`http fuzz ${model}: ${outcomes.length + 1} streams, ${count('answered')} answered (${outcomes.filter((o) => o.kind === 'answered' && o.status >= 400).length} with 4xx), ${count('closed')} closed, 0 hung, 0 crashes; serves beside ${model === 'iterative' ? '0 (by design)' : SLOW_CLIENTS} slow clients`);
    } finally {
      await served.stop();
    }
  });
});
