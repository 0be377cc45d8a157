import { describe, expect, it } from 'vitest';
import type { BackendInterval, Frame, GeneratorInterval } from '../../src/vocabulary/frames.js';
import { judgeProbe } from '../../src/analysis/capacity-verdict.js';
import type { Slo } from '../../src/vocabulary/slo.js';
import { encodeLatencies } from '../helpers/latency-hdr.js';

const SLO: Slo = { p99_ms: 100, max_error_rate: 0.01 };

/** One second of a probe at `rate`: every request took `ms` (corrected), with the given extras. */
function frame(index: number, rate: number, ms: number, over: Partial<GeneratorInterval> = {}, backend: Partial<BackendInterval> | null = null): Frame {
  const hdr = encodeLatencies(Array.from({ length: rate }, () => ms * 1000));
  const generator: GeneratorInterval = {
    phase: 'probe', phase_index: 0, target_rps: rate, due: rate, sent: rate, completed: rate, errors: 0,
    latency_hdr: hdr, uncorrected_hdr: hdr, sum_total_ms: rate * ms, sum_send_wait_ms: 0, sum_response_ms: rate * ms,
    backlog: 0, in_flight: 0, connections: 8, cpu_ms: 100, loop_lag_max_ms: 2, saturated: false, saturation: [], ...over,
  };
  const b: BackendInterval | null = backend && { calls: rate, completed: rate, queue_max: 0, queue_mean: 0, in_service_max: 1, limit: 4, sum_service_ms: rate * 20, sum_queue_ms: 0, ...backend };
  return { kind: 'frame', run: 0, index, t_ms: index * 1000, interval_ms: 1000, phase: 'probe', generator, server: null, contexts: [], backend: b };
}

describe('judgeProbe', () => {
  it('passes a rate answered in full within the SLO', () => {
    const v = judgeProbe(100, [frame(1, 100, 20), frame(2, 100, 30)], SLO);
    expect(v).toMatchObject({ pass: true, gave_out: null, achieved_rps: 100, error_rate: 0 });
    expect(v.latency_ms.p99_ms).toBeCloseTo(30, 0);
  });

  it("names the backend's limit when calls queued for its slots with every slot busy", () => {
    const backend = { in_service_max: 4, queue_max: 60, sum_queue_ms: 200 * 150 };
    const v = judgeProbe(200, [frame(1, 200, 180, {}, backend), frame(2, 200, 220, {}, backend)], SLO);
    expect(v).toMatchObject({ pass: false, gave_out: 'backend' });
    expect(v.reason).toBe("at 200 req/s p99 was 220 ms (SLO p99<100ms): the backend's limit gave out (all 4 calls in service, up to 60 waiting, 150 ms mean wait for a slot)");
  });

  it('names the latency when the backend had room, and errors when too many failed', () => {
    const roomy = { in_service_max: 2, queue_max: 0 };
    expect(judgeProbe(200, [frame(1, 200, 250, {}, roomy)], SLO)).toMatchObject({ pass: false, gave_out: 'latency' });
    const v = judgeProbe(200, [frame(1, 180, 20, { errors: 20 })], SLO);
    expect(v).toMatchObject({ pass: false, gave_out: 'errors', error_rate: 0.1 });
  });

  it('blames the generator only when its own delay explains the breach, and lets a pass despite it stand', () => {
    const late = { saturated: true, saturation: ['generator loop lag 40 ms'], loop_lag_max_ms: 40 };
    expect(judgeProbe(100, [frame(1, 100, 120, late)], SLO)).toMatchObject({ pass: false, gave_out: 'generator' });
    // 400 ms is not 40 ms of generator lag: the server gave out.
    expect(judgeProbe(100, [frame(1, 100, 400, late)], SLO)).toMatchObject({ pass: false, gave_out: 'latency' });
    expect(judgeProbe(100, [frame(1, 100, 50, late)], SLO)).toMatchObject({ pass: true });
    // Out of CPU, the generator is what gave out whatever the latency.
    expect(judgeProbe(100, [frame(1, 100, 400, { ...late, cpu_ms: 950 })], SLO)).toMatchObject({ pass: false, gave_out: 'generator' });
  });
});
