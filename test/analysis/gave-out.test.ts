/**
 * What gave out, on seeded synthetic steps each made to show one cause (and only it): the rule that names it, and
 * the order that keeps an effect from being named for its cause (a context per connection fills the same queue a
 * small pool does; only the model tells them apart).
 */
import { describe, expect, it } from 'vitest';
import { whatGaveOut, whatGaveOutPastKnee } from '../../src/analysis/gave-out.js';
import { loadPoints, type LoadPoint } from '../../src/analysis/load-curve.js';
import { ExpHistogram, type ContextInterval, type Frame } from '../../src/vocabulary/index.js';
import { syntheticRun } from './synthetic-frames.js';

const HOST = { cpus: 2, cpu_quota_cores: null };

const context = (over: Partial<ContextInterval> = {}): ContextInterval => ({
  key: '10/10', pid: 10, tid: 10, name: 'srv', role: 'js', cpu_user_ms: 50, cpu_system_ms: 0, voluntary: 10, involuntary: 1,
  runqueue_wait_ms: 0, eventloop_delay: null, eventloop_utilization: null, rss_bytes: null, ...over,
});

/** One step of 6 seeded intervals, each given a light context, then `tweak`ed into the cause under test. */
function step(seed: number, tweak: (f: Frame) => void = () => {}): LoadPoint {
  const frames = syntheticRun(seed, 6).map((s) => s.frame);
  for (const f of frames) {
    f.contexts = [context()];
    tweak(f);
  }
  return loadPoints([{ name: 'step', frames }], HOST)[0];
}

/** Adds `msPerRequest` to a stage of every joined request, and to the client's total (it is in their latency). */
const addStage = (f: Frame, stage: 'accept_queue' | 'server_queue', msPerRequest: number) => {
  f.server!.stages[stage].sum_ms += msPerRequest * f.server!.joined;
  f.generator!.sum_total_ms += msPerRequest * f.generator!.completed;
  f.generator!.sum_response_ms += msPerRequest * f.generator!.completed;
};

const cause = (model: string, at: LoadPoint) => whatGaveOut(model, at, step(1), HOST, 0.01);

describe('what gave out', () => {
  it.each([2, 3, 4])('names nothing known on a step with none of the causes (seed %i)', (seed) => {
    expect(cause('thread-pool', step(seed)).cause).toBe('unknown');
  });

  it('names the accept queue on a pool, and context creation on a model that makes a context per connection', () => {
    const queued = step(2, (f) => addStage(f, 'server_queue', 200));
    expect(cause('thread-pool', queued).cause).toBe('accept_queue');
    const created = cause('thread-per-connection', queued);
    expect(created.cause).toBe('context_creation');
    expect(created.evidence[0]).toMatch(/went from accept to the handler/);
    expect(cause('iterative', step(3, (f) => addStage(f, 'accept_queue', 200))).cause).toBe('accept_queue');
  });

  it('names the accept queue where requests waited at the client for a connection the server held, and only then', () => {
    // 200 ms a request waiting for one of the client's connections; the kernel's accept queue holds the rest.
    const held = (backlog: number) => step(3, (f) => {
      f.generator!.sum_send_wait_ms += 200 * f.generator!.completed;
      f.generator!.sum_total_ms += 200 * f.generator!.completed;
      f.generator!.backlog = backlog;
    });
    const queued = cause('external', held(12));
    expect(queued.cause).toBe('accept_queue');
    expect(queued.evidence[0]).toMatch(/for one of the client's connections, every one held by the server \(requests left unsent in 6 of 6 intervals\)/);
    // The same wait with no backlog is the generator's own lateness, not the server's queue.
    expect(cause('external', held(0)).cause).toBe('unknown');
  });

  it('names the CPU where one context held a core, and says which', () => {
    const busy = cause('event-loop', step(2, (f) => (f.contexts = [context({ cpu_user_ms: 950, eventloop_utilization: 0.97 })])));
    expect(busy.cause).toBe('cpu');
    expect(busy.evidence[0]).toContain('srv (js, 10/10)');
    // CPU comes before the queue it makes grow.
    expect(cause('thread-pool', step(2, (f) => { addStage(f, 'accept_queue', 200); f.contexts = [context({ cpu_user_ms: 900 }), context({ key: '10/11', cpu_user_ms: 900 })]; })).cause).toBe('cpu');
  });

  it('names the run queue where waiting for a core is a quarter of the server\'s time', () => {
    const waited = step(4, (f) => (f.contexts = [context({ runqueue_wait_ms: 5 * f.server!.requests })]));
    expect(cause('thread-pool', waited).cause).toBe('runqueue');
  });

  it('names the backend where every slot was busy and the wait for one is a tenth of the mean', () => {
    const backend = step(2, (f) => {
      addStage(f, 'accept_queue', 0);
      f.backend = { calls: f.generator!.completed, completed: f.generator!.completed, queue_max: 40, queue_mean: 20, in_service_max: 16, limit: 16, sum_service_ms: 20 * f.generator!.completed, sum_queue_ms: 30 * f.generator!.completed };
    });
    expect(cause('event-loop', backend).cause).toBe('backend');
  });

  it('reads past the knee at the first point that shows a cause: the first past it, else the next ones in turn', () => {
    const backendStep = (seed: number, offered: number) => {
      const p = step(seed, (f) => {
        addStage(f, 'accept_queue', 0);
        f.backend = { calls: f.generator!.completed, completed: f.generator!.completed, queue_max: 40, queue_mean: 20, in_service_max: 16, limit: 16, sum_service_ms: 20 * f.generator!.completed, sum_queue_ms: 30 * f.generator!.completed };
      });
      return { ...p, offered_rps: offered };
    };
    const quiet = (seed: number, offered: number) => ({ ...step(seed), offered_rps: offered });
    const past = (points: LoadPoint[]) => whatGaveOutPastKnee('event-loop', points, step(1), HOST, 0.01);
    // The first point past the knee shows nothing yet, the second shows the backend: the backend, and where it was read.
    const later = past([quiet(2, 100), quiet(3, 150), backendStep(4, 225)]);
    expect(later.cause).toBe('backend');
    expect(later.evidence.at(-1)).toBe('read at 225 req/s offered: at 100 req/s, the first point past the knee, the frames showed none of the causes yet');
    // Where the first point shows a cause, it is the one named, whatever comes after.
    expect(past([backendStep(2, 100), quiet(3, 150)])).toEqual(whatGaveOut('event-loop', backendStep(2, 100), step(1), HOST, 0.01));
    // None shows a cause: unknown, as the first point says it.
    expect(past([quiet(2, 100), quiet(3, 150)])).toEqual(whatGaveOut('event-loop', quiet(2, 100), step(1), HOST, 0.01));
  });

  it('names a blocked loop (delay without CPU), and the generator where it ran out of CPU', () => {
    const delay = new ExpHistogram();
    for (let i = 0; i < 200; i++) delay.record(i < 190 ? 0.001 : 0.05);
    const blocked = step(3, (f) => (f.contexts = [context({ eventloop_delay: delay.toData(), eventloop_utilization: 0.3 })]));
    expect(cause('event-loop', blocked).cause).toBe('loop_delay');
    const gen = step(3, (f) => { f.generator!.cpu_ms = 980; f.generator!.saturated = true; f.generator!.saturation = ['cpu']; });
    expect(cause('event-loop', gen).cause).toBe('generator');
  });
});
