/**
 * The short form of test/reliability/collector-faults.test.ts, for npm test: the collector absent from the start for
 * 5 s, against a queue of 10 intervals (2 s): the app serves with 0 errors, the agent counts the intervals it
 * dropped, and they reach the collector once it listens.
 */
import { expect, it } from 'vitest';
import { formatFigures, runUnderFault } from '../helpers/collector-faults.js';

it('with no collector the app serves on and the agent counts what it dropped', async () => {
  const f = await runUnderFault('absent', 5, 10, 2);
  console.log(formatFigures(f));
  expect(f.errors).toBe(0);
  expect(f.requests).toBeGreaterThan(1000);
  expect(f.droppedOnPage).toBeGreaterThan(0);
  // Every drop counted reaches the collector once it is back (later ones too: the app served on meanwhile).
  expect(f.droppedReceived).toBeGreaterThanOrEqual(f.droppedOnPage);
});
