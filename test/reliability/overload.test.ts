import { describe, expect, it } from 'vitest';
import { MODEL_IDS } from '../../src/vocabulary/index.js';
import { serveModel } from '../helpers/http-fuzz.js';
import { flood, measuredCapacity, normalLatency, recoverySeconds, sampleGroup } from '../helpers/overload.js';

/**
 * Issue 19, overload: every reference server at 10x the rate it was just measured to complete, for 60 s of open
 * loop (a new connection per request, at most FLOOD_CONNECTIONS at once, each given up after 2 s), then stopped dead.
 * It must not crash, its memory must stop growing once its caps are reached, the per-connection models must hold to
 * their caps, and a plain GET must be back to its normal latency within 10 s of the end.
 */
const FLOOD_S = Number(process.env.SRVLENS_OVERLOAD_S ?? 60);
const FLOOD_CONNECTIONS = 256;
const CAPACITY_USERS = 16;
const RECOVERY_S = 10;
/** The caps `srvlens serve` gives the per-connection models by default (see its --help). */
const CAPS: Partial<Record<string, { threads?: number; processes?: number }>> = {
  'thread-per-connection': { threads: 64 },
  'fork-per-connection': { processes: 32 },
};

describe.each(MODEL_IDS)('%s at 10x its capacity (issue 19)', (model) => {
  it(`serves through ${FLOOD_S} s of it within its caps and memory, and is back to normal within ${RECOVERY_S} s`, async () => {
    const served = await serveModel(model);
    const root = served.child.pid!;
    let stderr = '';
    served.child.stderr!.on('data', (d) => (stderr += d));
    try {
      const idle = sampleGroup(root);
      const normalMs = await normalLatency(served.port);
      const capacity = await measuredCapacity(served.port, CAPACITY_USERS, 2);
      const { intervals, samples } = await flood(served.port, root, 10 * capacity, FLOOD_S, FLOOD_CONNECTIONS);
      // "Normal": within twice the idle median, and never held to less than 2 ms of slack (a scheduler tick).
      const boundMs = Math.max(2 * normalMs, normalMs + 2);
      const recovered = await recoverySeconds(served.port, boundMs, RECOVERY_S);
      const alive = served.child.exitCode === null && served.child.signalCode === null;
      await served.stop();
      // The per-connection models say at their stop how many dead clients they closed unserved (accept-client.ts).
      const shed = Number(/(\d+) queued connections were closed unserved/.exec(stderr)?.[1] ?? 0);

      const sum = (f: (d: (typeof intervals)[number]) => number) => intervals.reduce((s, d) => s + f(d), 0);
      const due = sum((d) => d.due);
      const completed = sum((d) => d.completed);
      const peak = (list: typeof samples, f: (s: (typeof samples)[number]) => number) => Math.max(0, ...list.map(f));
      const mb = (b: number) => Math.round(b / 2 ** 20);
      const firstHalf = samples.filter((s) => s.at_s <= FLOOD_S / 2);
      const secondHalf = samples.filter((s) => s.at_s > FLOOD_S / 2);
      const rssFirst = peak(firstHalf, (s) => s.rss_bytes);
      const rssSecond = peak(secondHalf, (s) => s.rss_bytes);
      console.log(
        `overload ${model}: capacity ${capacity.toFixed(0)} req/s, offered ${(due / FLOOD_S).toFixed(0)} req/s for ${FLOOD_S} s ` +
          `(the generator sent ${(sum((d) => d.sent) / FLOOD_S).toFixed(0)}/s, saturated in ${intervals.filter((d) => d.saturated).length} of ${intervals.length} s), ` +
          `completed ${(completed / FLOOD_S).toFixed(1)}/s, errors ${sum((d) => d.errors)}; ` +
          `RSS ${mb(idle.rss_bytes)} MB idle, peak ${mb(rssFirst)} MB in the first half, ${mb(rssSecond)} MB in the second; ` +
          `threads ${idle.threads} idle, peak ${peak(samples, (s) => s.threads)}; processes ${idle.processes} idle, peak ${peak(samples, (s) => s.processes)}; ` +
          `${shed} dead connections shed; normal GET ${normalMs.toFixed(2)} ms, back under ${boundMs.toFixed(2)} ms ${recovered === null ? `not within ${RECOVERY_S} s` : `${recovered.toFixed(2)} s after the flood`}`,
      );

      expect(alive, `${model} alive after the flood`).toBe(true);
      // It was overloaded: far more was due than it could answer.
      expect(due, 'offered against completed').toBeGreaterThan(3 * completed);
      if (CAPS[model]) expect(shed, 'connections shed').toBeGreaterThan(0);
      // Memory stops growing once the caps are reached: the second half's peak within 10 % (+16 MB of heap
      // breathing) of the first half's.
      expect(mb(rssSecond), 'RSS in the second half, MB').toBeLessThanOrEqual(mb(rssFirst * 1.1) + 16);
      const cap = CAPS[model];
      // A connection thread is one OS thread (a worker's isolate has no threads of its own); a connection process
      // is a whole Node, whose threads come with it.
      if (cap?.threads) expect(peak(samples, (s) => s.threads), 'threads').toBeLessThanOrEqual(idle.threads + cap.threads);
      if (cap?.processes) expect(peak(samples, (s) => s.processes), 'processes').toBeLessThanOrEqual(idle.processes + cap.processes);
      expect(recovered, `back under ${boundMs.toFixed(2)} ms within ${RECOVERY_S} s`).not.toBeNull();
    } finally {
      await served.stop();
    }
  });
});
