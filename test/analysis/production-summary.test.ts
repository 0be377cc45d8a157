/**
 * A service's headroom from production figures, on frames whose numbers are worked out by hand: the busiest window,
 * the CPU's ceiling (the cores the agents say, and a single loop's one core), a capacity run scaled to the
 * instances, the USL's refusal in words, and the instance unlike the others.
 */
import { describe, expect, it } from 'vitest';
import { ExpHistogram, STAGES, type ContextInterval, type Frame, type ServerInterval } from '../../src/vocabulary/index.js';
import { PEAK_WINDOW_MS, summariseProduction } from '../../src/analysis/production-summary.js';

const INTERVAL_MS = 15_000;

/** One 15 s step of an instance: `rps` served, each request `ms` long, `cpuMs` of CPU each on its loop thread. */
function frame(index: number, rps: number, ms: number, cpuMs: number, loopShare = 1): Frame {
  const requests = (rps * INTERVAL_MS) / 1000;
  const duration = new ExpHistogram();
  for (let i = 0; i < requests; i++) duration.record(ms / 1000);
  const server: ServerInterval = {
    requests,
    joined: requests,
    in_flight_ms: requests * ms,
    stages: Object.fromEntries(STAGES.map((s) => [s, { sum_ms: s === 'process' ? requests * ms : 0, requests, entries: s === 'process' ? requests : 0 }])) as ServerInterval['stages'],
    duration: duration.toData(),
    dropped: 0,
    agent_errors: 0,
  };
  const ctx = (key: string, name: string, role: string, cpu: number): ContextInterval => ({
    key, pid: 1, tid: 1, name, role, cpu_user_ms: cpu, cpu_system_ms: 0, voluntary: 0, involuntary: 0, runqueue_wait_ms: 0, eventloop_delay: null, eventloop_utilization: null, rss_bytes: null,
  });
  const cpu = requests * cpuMs;
  return {
    kind: 'frame', run: 0, index, t_ms: index * INTERVAL_MS, interval_ms: INTERVAL_MS, phase: null, generator: null, server, backend: null,
    contexts: [ctx('1/1', 'shop:main', 'js', cpu * loopShare), ctx('1/runtime', 'shop:runtime', 'runtime', cpu * (1 - loopShare))],
  };
}

/** An hour at 100 req/s with ten minutes at 200 in the middle. */
const hour = (cpuMs: number, loopShare = 1) => Array.from({ length: 240 }, (_, i) => frame(i, i >= 100 && i < 140 ? 200 : 100, 20, cpuMs, loopShare));

describe('summariseProduction', () => {
  it('reads the peak over the busiest 5 min and the CPU ceiling of the cores the agents say', () => {
    // Half the CPU on the loop thread: 4 ms per request on 2 cores, 85 % busy = 425 req/s; the loop's 2 ms at 85 % of
    // its core = 425 req/s too; 2 instances of it.
    const frames = hour(4, 0.5);
    const s = summariseProduction({
      service: 'shop',
      frames,
      instances: [0, 1].map((i) => ({ server: `shop i${i}`, instance: `i${i}`, frames, cpuLimit: 2, cpuLimitSource: 'cgroup cpu.max' })),
     
      capacity: null,
    });
    expect(s.headroom.current_peak_rps).toBe(200);
    expect(s.headroom.peak_window!.seconds).toBe(PEAK_WINDOW_MS / 1000);
    expect(s.headroom.capacity_rps).toBe(850);
    expect(s.headroom.limited_by).toBe('cpu');
    expect(s.headroom.ratio).toBeCloseTo(200 / 850, 3);
    expect(s.headroom.basis).toMatch(/^CPU: 4.00 ms CPU per request on 2.00 cores \(85 % busy\) \(the limit from cgroup cpu.max\), summed over 2 instances/);
    // Little's N is 100 x 0.02 = 2 or 4 in flight: a factor 2, yet throughput rises with it exactly: no peak.
    expect(s.headroom.basis).toMatch(/the USL/);
    expect(s.diagnosis).toMatch(/^shop served 200 req\/s at its peak \(its busiest 5 min\): 24 % of the knee \(850 req\/s\), 4.25x headroom; the knee is set by cpu/);
  });

  it('holds a single loop to its one core however many the host has', () => {
    const frames = hour(4, 1);
    const s = summariseProduction({ service: 'shop', frames, instances: [{ server: 'shop', instance: 'i0', frames, cpuLimit: 8, cpuLimitSource: 'host' }], capacity: null });
    // 8 cores would carry 1700 req/s; the loop's 4 ms per request on one core, 85 % busy: 212.5.
    expect(s.headroom.capacity_rps).toBe(212.5);
    expect(s.headroom.basis).toMatch(/its busiest thread \(shop:main\) 4.00 ms CPU per request on its one core/);
  });

  it('takes a capacity run\'s knee per instance over the CPU, and says "no knee up to" where it never bent', () => {
    const frames = hour(1);
    const instances = [0, 1, 2].map((i) => ({ server: `shop i${i}`, instance: `i${i}`, frames, cpuLimit: 2, cpuLimitSource: 'host' }));
    const s = summariseProduction({ service: 'shop', frames, instances, capacity: { rps: 300, limited_by: 'accept_queue', at_least: false, source: 'cap.srvlens.gz (shop)' } });
    expect(s.headroom.capacity_rps).toBe(900);
    expect(s.headroom.limited_by).toBe('accept_queue');
    expect(s.headroom.basis).toBe('the capacity run cap.srvlens.gz (shop): its knee at 300 req/s per instance, x 3 instances');
    const t = summariseProduction({ service: 'shop', frames, instances, capacity: { rps: 300, limited_by: 'not_reached', at_least: true, source: 'cap' } });
    expect(t.headroom.basis).toMatch(/no knee up to 300 req\/s/);
  });

  it('names the instance slower or costlier than the others, and no other', () => {
    const normal = hour(1);
    const slow = Array.from({ length: 240 }, (_, i) => frame(i, 100, 45, 2));
    const s = summariseProduction({
      service: 'shop',
      frames: [...normal, ...slow],
      instances: [
        { server: 'a', instance: 'a', frames: normal, cpuLimit: 2, cpuLimitSource: 'host' },
        { server: 'b', instance: 'b', frames: normal, cpuLimit: 2, cpuLimitSource: 'host' },
        { server: 'c', instance: 'c', frames: slow, cpuLimit: 2, cpuLimitSource: 'host' },
      ],
     
      capacity: null,
    });
    expect(s.instances.map((i) => i.outlier === null)).toEqual([true, true, false]);
    expect(s.instances[2].outlier).toMatch(/^slower: p99 4\d.\d ms against 20.\d ms for the others; costlier: 2.00 ms CPU per request against 1.00 ms for the others$/);
    expect(s.diagnosis).toContain('Instance c is slower');
  });

  it('says what it cannot know: no cores said, and no one thread that limits it (a pool of two), no capacity', () => {
    const frames = hour(1, 0.5).map((f) => ({ ...f, contexts: f.contexts.map((c) => (c.role === 'runtime' ? { ...c, role: 'js', key: '1/2', name: 'shop:pool-1' } : c)) }));
    const s = summariseProduction({ service: 'shop', frames, instances: [{ server: 'shop', instance: 'i0', frames, cpuLimit: null, cpuLimitSource: null }], capacity: null });
    expect(s.headroom.capacity_rps).toBeNull();
    expect(s.headroom.basis).toMatch(/no capacity could be read; .*no CPU ceiling: the agents did not say how many cores they may use/);
    expect(s.diagnosis).toMatch(/what it can take is not known/);
  });
});
