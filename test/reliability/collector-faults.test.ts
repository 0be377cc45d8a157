/**
 * Issue 19, faults: the collector absent from the start, killed mid-run, answering 500, answering after 5 s, accepting
 * then resetting. For 60 s each, at a fixed rate, the host app serves with 0 errors and its throughput within 5 % of
 * the run with a working collector (run first, in the same go), the agent's memory stays bounded (RSS growth under
 * 10 MB), and the agent counts what it could not keep in srvlens.agent.dropped: on its Prometheus page, and in the
 * records it sends once a collector is back. Each run's figures are printed.
 */
import { describe, expect, it } from 'vitest';
import { formatFigures, runUnderFault, type CollectorFault, type FaultFigures } from '../helpers/collector-faults.js';

const SECONDS = 60;
/** The agent's budget under a fault: what it costs with a working collector, and 5 % of noise on shared cores. */
const THROUGHPUT_FLOOR = 0.95;
const RSS_GROWTH_LIMIT_MB = 10;

describe('the host app while its collector fails', () => {
  let baseline: FaultFigures;

  it('with a working collector: the baseline, nothing dropped', async () => {
    baseline = await runUnderFault('none', SECONDS);
    console.log(formatFigures(baseline));
    expect(baseline.errors).toBe(0);
    expect(baseline.droppedOnPage).toBe(0);
    expect(baseline.droppedReceived).toBe(0);
    expect(baseline.rssGrowthMB).toBeLessThan(RSS_GROWTH_LIMIT_MB);
  });

  it.each<CollectorFault>(['absent', 'killed', 'http-500', 'slow-5s', 'reset'])('collector %s: 0 errors, throughput held, RSS bounded, drops counted', async (fault) => {
    const f = await runUnderFault(fault, SECONDS);
    console.log(`${formatFigures(f)}; throughput ${(f.reqPerSec / baseline.reqPerSec).toFixed(3)} of the baseline`);
    expect(f.errors).toBe(0);
    expect(f.reqPerSec / baseline.reqPerSec).toBeGreaterThan(THROUGHPUT_FLOOR);
    expect(f.rssGrowthMB).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    // At least 30 s without a collector against a queue of 12 s: intervals were dropped, and counted.
    expect(f.droppedOnPage).toBeGreaterThan(0);
    // Every drop counted reaches the collector once it is back (later ones too: the app served on meanwhile).
    expect(f.droppedReceived).toBeGreaterThanOrEqual(f.droppedOnPage);
  });
});
