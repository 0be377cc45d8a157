import { describe, expect, it } from 'vitest';
import { RequestTracker } from '../../agents/node/request-tracker.js';
import { B_REQUESTS, H_DROPPED, H_HARVESTED, ThreadRing } from '../../agents/node/thread-ring.js';
import { ThreadSchedstat } from '../../agents/node/thread-schedstat.js';
import { STAGE, monoMs } from '../../src/vocabulary/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('request tracker', () => {
  it('integrates the requests in flight over time: two overlapping requests, 1 + 2 + 1 in flight for ~40 ms each', async () => {
    const ring = new ThreadRing(3_600_000); // one interval for the whole test
    const tracker = new RequestTracker(ring);
    const [a, b] = [{}, {}];
    const t0 = monoMs();
    tracker.begin(a, 0, 0);
    await sleep(40);
    const t1 = monoMs();
    tracker.begin(b, 0, 0);
    await sleep(40);
    const t2 = monoMs();
    tracker.end(a);
    await sleep(40);
    const t3 = monoMs();
    tracker.end(b);
    const bucket = ring.read(Math.floor(monoMs() / 3_600_000))!;
    // Held against this test's own clock readings around each call, not against the durations the tracker timed.
    const expected = (t1 - t0) + 2 * (t2 - t1) + (t3 - t2);
    expect(bucket.inFlightMs).toBeGreaterThan(expected - 1);
    expect(bucket.inFlightMs).toBeLessThan(expected + 1);
    // Little's law over the bucket: the time in flight is the requests' summed durations (both ends inside it).
    expect(bucket.inFlightMs).toBeCloseTo(bucket.duration.sum * 1000, 3);
  });

  it('takes back the slot of an abandoned request, and a late end of it cannot release the slot\'s new holder', () => {
    const ring = new ThreadRing(1000);
    const tracker = new RequestTracker(ring, 1); // one slot: the new request must reuse the abandoned one's
    const abandoned = {};
    tracker.begin(abandoned, 0, 0);
    expect(tracker.inFlight).toBe(1);
    tracker.sweep(monoMs() + 121_000);
    expect(tracker.inFlight).toBe(0);
    expect(ring.f64[H_DROPPED]).toBe(1);

    const fresh = {};
    tracker.begin(fresh, 0, 0);
    tracker.end(abandoned); // too late: counted as a finished response, but it holds no slot any more
    expect(tracker.inFlight).toBe(1);
    tracker.markStage(fresh, STAGE.downstream);
    tracker.end(fresh);
    expect(tracker.inFlight).toBe(0);
    const bucket = ring.read(Math.floor(monoMs() / 1000))!;
    expect(bucket.requests).toBe(2);
    expect(bucket.stageEntries[STAGE.downstream]).toBe(1);
    expect(bucket.duration.count).toBe(1); // only the request that still held its slot was timed
  });

  it('drops, and counts, requests beyond its capacity without disturbing those it tracks', () => {
    const ring = new ThreadRing(1000);
    const tracker = new RequestTracker(ring, 2);
    const handles = [{}, {}, {}];
    for (const h of handles) tracker.begin(h, 0, 0);
    expect(ring.f64[H_DROPPED]).toBe(1);
    for (const h of handles) tracker.end(h);
    expect(tracker.inFlight).toBe(0);
    expect(ring.read(Math.floor(monoMs() / 1000))!.duration.count).toBe(2);
  });

  it('counts the requests of a bucket it reuses before the agent thread read it as dropped, and only those', () => {
    const ring = new ThreadRing(100);
    const base = 1_000_000; // interval 10000 of 100 ms
    ring.f64[ring.bucketFor(base) + B_REQUESTS] += 3; // interval 10000
    ring.f64[ring.bucketFor(base + 100) + B_REQUESTS] += 5; // interval 10001
    ring.bucketFor(base + 800); // interval 10008 reuses 10000's bucket, which the agent thread has not read
    expect(ring.f64[H_DROPPED]).toBe(3);
    ring.f64[H_HARVESTED] = 10_001; // the agent thread reads in order: it has now read up to 10001
    ring.bucketFor(base + 900); // 10009 reuses 10001's, which was read
    expect(ring.f64[H_DROPPED]).toBe(3);
  });

  it('splits by schedstat every request that starts 20 ms or more after the last split, and no more', () => {
    const ring = new ThreadRing(3_600_000); // one interval for the whole test
    const tracker = new RequestTracker(ring);
    const sched = new ThreadSchedstat();
    tracker.splitBySchedstat(sched);
    try {
      // Back to back, each far shorter than the gap: a few split, not all of them.
      const start = monoMs();
      let n = 0;
      while (monoMs() - start < 200) {
        const h = {};
        tracker.begin(h, 0, 0);
        tracker.end(h);
        n++;
      }
      // Spaced by the gap: every one split.
      for (let i = 0; i < 3; i++) {
        const t = monoMs();
        while (monoMs() - t < 20.5);
        const h = {};
        tracker.begin(h, 0, 0);
        tracker.end(h);
      }
      const split = ring.read(Math.floor(monoMs() / 3_600_000))!.split!;
      expect(n).toBeGreaterThan(100);
      expect(split.requests).toBeGreaterThanOrEqual(3 + 5);
      expect(split.requests).toBeLessThanOrEqual(3 + 12);
    } finally {
      sched.close();
    }
  });
});
