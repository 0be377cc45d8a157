import { describe, expect, it } from 'vitest';
import { FrameAssembler, MAX_LAG } from '../../src/collect/frame-assembler.js';
import { emptyContext, type AgentInterval } from '../../src/collect/otlp-json.js';
import type { ContextInterval, Frame, GeneratorInterval } from '../../src/vocabulary/index.js';
import type { FrameSink, FrameSource } from '../../src/vocabulary/frame-source.js';

const gen = (phase = 'p'): GeneratorInterval => ({
  phase,
  phase_index: 0,
  target_rps: 10,
  due: 10,
  sent: 10,
  completed: 10,
  errors: 0,
  latency_hdr: '',
  uncorrected_hdr: '',
  sum_total_ms: 0,
  sum_send_wait_ms: 0,
  sum_response_ms: 0,
  backlog: 0,
  in_flight: 0,
  connections: 1,
  cpu_ms: 0,
  loop_lag_max_ms: 0,
  saturated: false,
  saturation: [],
});

const agent = (pid: number, index: number): AgentInterval => {
  const c = { ...emptyContext(pid, 'main', 'js'), requests: 10 };
  return { pid, service: 's', model: 'm', role: 'server', index, contexts: [c], process: c, rss_bytes: null, dropped: 0, agent_errors: 0 };
};

describe('frame assembler', () => {
  it('emits each interval once, in order, LAG intervals behind the generator', () => {
    const out: Frame[] = [];
    const a = new FrameAssembler(0, 1000);
    a.pipe((f) => out.push(f));
    for (let i = 10; i < 15; i++) {
      a.addAgents([agent(1, i)]);
      a.addGenerator(i, gen());
    }
    expect(out.map((f) => f.index)).toEqual([10, 11, 12]);
    a.finish();
    expect(out.map((f) => f.index)).toEqual([10, 11, 12, 13, 14]);
    expect(out.every((f) => f.server?.requests === 10)).toBe(true);
  });

  it('waits for an agent that fell behind (up to MAX_LAG), so its late data still lands in its frames', () => {
    const out: Frame[] = [];
    const a = new FrameAssembler(0, 1000);
    a.pipe((f) => out.push(f));
    a.addAgents([agent(1, 10)]);
    a.addGenerator(10, gen());
    // The agent stalls for three intervals while the generator goes on...
    for (let i = 11; i < 15; i++) a.addGenerator(i, gen());
    expect(out.map((f) => f.index)).toEqual([10]);
    // ...then catches up all at once.
    a.addAgents([agent(1, 11), agent(1, 12), agent(1, 13)]);
    a.addGenerator(15, gen());
    expect(out.map((f) => f.index)).toEqual([10, 11, 12, 13]);
    expect(out.every((f) => f.server?.requests === 10)).toBe(true);
    // An agent gone for good holds frames up only MAX_LAG intervals.
    for (let i = 16; i < 14 + MAX_LAG; i++) a.addGenerator(i, gen());
    expect(out.map((f) => f.index).slice(-1)[0]).toBe(13);
    for (let i = 14 + MAX_LAG; i < 16 + MAX_LAG; i++) a.addGenerator(i, gen());
    expect(out.map((f) => f.index).slice(-1)[0]).toBeGreaterThanOrEqual(17);
    expect(out.find((f) => f.index === 16)?.server).toBeNull();
    // Its data for an interval whose frame has gone out is lost, and said on the next frame out.
    expect(out.some((f) => f.agents_late)).toBe(false);
    a.addAgents([agent(1, 14), agent(1, 15)]);
    const before = out.length;
    a.addGenerator(16 + MAX_LAG, gen());
    expect(out.slice(before).map((f) => f.agents_late)).toEqual([2]);
  });

  it('does not wait for a process that only starts reporting later', () => {
    const out: Frame[] = [];
    const a = new FrameAssembler(0, 1000);
    a.pipe((f) => out.push(f));
    a.addGenerator(10, gen());
    a.addAgents([agent(2, 13)]);
    for (let i = 11; i < 14; i++) a.addGenerator(i, gen());
    expect(out.map((f) => f.index)).toEqual([10, 11]);
  });

  it("joins the frames of another source (the /proc watch) into its own: their contexts beside the agents', their accept queue", () => {
    const out: Frame[] = [];
    const a = new FrameAssembler(0, 1000);
    a.pipe((f) => out.push(f));
    let send: FrameSink = () => undefined;
    const watch: FrameSource = { pipe: (s) => (send = s) };
    a.include(watch);
    const thread: ContextInterval = { ...emptyContextInterval(), key: '7/8', pid: 7, tid: 8, name: '8 srv', role: 'thread', cpu_user_ms: 5 };
    const measured = (index: number): Frame => ({ kind: 'frame', run: 0, index, t_ms: index * 1000, interval_ms: 1000, phase: null, generator: null, server: null, contexts: [thread], backend: null, accept_queue: { length_max: 3, length_mean: 1.5, samples: 4 } });
    a.addGenerator(10, gen());
    a.addAgents([agent(1, 10)]);
    send(measured(10));
    a.addGenerator(11, gen());
    a.addGenerator(12, gen());
    expect(out).toHaveLength(1);
    // The agent's contexts first, then what the other source measured.
    expect(out[0].contexts.map((c) => c.pid)).toEqual([1, 7]);
    expect(out[0].contexts[1]).toEqual(thread);
    expect(out[0].accept_queue).toEqual({ length_max: 3, length_mean: 1.5, samples: 4 });
    expect(out[0].server?.requests).toBe(10);
    // Too late for a frame already gone: dropped, not sent again.
    send(measured(10));
    a.finish();
    expect(out.map((f) => f.index)).toEqual([10, 11, 12]);
    expect(out[1].accept_queue).toBeUndefined();
  });
});

function emptyContextInterval(): ContextInterval {
  return { key: '', pid: 0, tid: null, name: '', role: '', cpu_user_ms: 0, cpu_system_ms: 0, voluntary: 0, involuntary: 0, runqueue_wait_ms: null, eventloop_delay: null, eventloop_utilization: null, rss_bytes: null };
}
