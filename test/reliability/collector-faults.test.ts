/**
 * Issue 19, faults: the collector absent from the start, killed mid-run, answering 500, answering after 5 s, accepting
 * then resetting. For 60 s each, at a fixed rate, the host app serves with 0 errors and its throughput within 5 % of
 * the run with a working collector, the agent's memory stays bounded (RSS growth under 10 MB), and the agent counts
 * what it could not keep in srvlens.agent.dropped: on its Prometheus page, and in the records it sends once a
 * collector is back. The six runs go at once (an app, a collector and a client each), so the baseline is measured
 * beside the faults, on the same machine at the same time. Each run's figures are printed.
 */
import { describe, expect, it } from 'vitest';
import { formatFigures, runUnderFault, type CollectorFault } from '../helpers/collector-faults.js';

const SECONDS = 60;
/** The agent's budget under a fault: what it costs with a working collector, and 5 % of noise on shared cores. */
const THROUGHPUT_FLOOR = 0.95;
const RSS_GROWTH_LIMIT_MB = 10;
const FAULTS: CollectorFault[] = ['absent', 'killed', 'http-500', 'slow-5s', 'reset'];

describe('the host app while its collector fails', () => {
  it(`${FAULTS.join(', ')}: 0 errors, throughput held against a working collector's, RSS bounded, drops counted`, async () => {
    const [baseline, ...faults] = await Promise.all(['none' as const, ...FAULTS].map((f) => runUnderFault(f, SECONDS)));
    console.log(formatFigures(baseline));
    expect(baseline.errors, 'none: errors').toBe(0);
    expect(baseline.droppedOnPage, 'none: dropped').toBe(0);
    expect(baseline.droppedReceived, 'none: dropped, received').toBe(0);
    expect(baseline.rssGrowthMB, 'none: RSS growth').toBeLessThan(RSS_GROWTH_LIMIT_MB);
    for (const f of faults) {
      console.log(`${formatFigures(f)}; throughput ${(f.reqPerSec / baseline.reqPerSec).toFixed(3)} of the baseline`);
      expect.soft(f.errors, `${f.fault}: errors`).toBe(0);
      expect.soft(f.reqPerSec / baseline.reqPerSec, `${f.fault}: throughput against the baseline`).toBeGreaterThan(THROUGHPUT_FLOOR);
      expect.soft(f.rssGrowthMB, `${f.fault}: RSS growth, MB`).toBeLessThan(RSS_GROWTH_LIMIT_MB);
      // At least 30 s without a collector against a queue of 12 s: intervals were dropped, and counted.
      expect.soft(f.droppedOnPage, `${f.fault}: dropped, on the page`).toBeGreaterThan(0);
      // Every drop counted reaches the collector once it is back (later ones too: the app served on meanwhile).
      expect.soft(f.droppedReceived, `${f.fault}: dropped, received`).toBeGreaterThanOrEqual(f.droppedOnPage);
    }
  });
});
