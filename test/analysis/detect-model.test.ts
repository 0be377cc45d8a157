import { describe, expect, it } from 'vitest';
import { detectModel } from '../../src/analysis/detect-model.js';
import { DOMINANT_THREAD_SHARE, HELPER_WORK_SHARE, threadShape } from '../../src/analysis/thread-shape.js';
import { LIGHT_LOAD, ROOT, UNDER_LOAD, clusterWindow, ctx, nodeProcess, proc, seeded, window } from './synthetic-windows.js';

const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);

describe('naming the model from a window', () => {
  for (const [model, build] of Object.entries(UNDER_LOAD)) {
    it(`names ${model} in ${SEEDS.length} noisy windows of it`, () => {
      for (const seed of SEEDS) {
        const found = detectModel(build(seeded(seed)));
        expect(found.model, `seed ${seed}: ${found.evidence.join('; ')}`).toBe(model);
      }
    });
  }

  it('gives its reasons as facts a reader can check', () => {
    const r = seeded(7);
    expect(detectModel(UNDER_LOAD['thread-per-connection'](r)).evidence[0]).toMatch(/^threads created during the window: \d+, ended: \d+/);
    expect(detectModel(UNDER_LOAD['event-loop'](r)).evidence[0]).toMatch(/^1 thread of PID 100 did \d+ % of its CPU; its 10 other threads are helpers/);
    expect(detectModel(UNDER_LOAD['event-loop-per-core'](r)).evidence[0]).toMatch(/^\d+ worker processes of the same executable \(\/usr\/sbin\/srv\) under one master \(PID 100\)$/);
    expect(detectModel(UNDER_LOAD['fork-per-connection'](r)).evidence[0]).toMatch(/^processes created during the window: \d+, ended: \d+$/);
    const facts = detectModel(UNDER_LOAD.iterative(r)).evidence;
    expect(facts).toContainEqual(expect.stringMatching(/^listening on 127\.0\.0\.1:8080: accept queue \d+ at the end, peak \d+, backlog 128$/));
  });

  describe('Node\'s helper threads', () => {
    // A loop thread and helpers at given shares of the process's CPU (1000 ms), plus idle ones.
    const node = (helperShares: number[], conns = 40) => {
      const main = 1000 * (1 - helperShares.reduce((a, b) => a + b, 0));
      const busy = helperShares.map((share, i) => ctx(ROOT, ROOT + 1 + i, 1000 * share));
      const idle = [20, 21, 22].map((i) => ctx(ROOT, ROOT + i, 0));
      const threads = [ctx(ROOT, ROOT, main), ...busy, ...idle];
      return window([proc(ROOT, 1, threads, { inbound_max: conns })], threads);
    };

    it('calls busy GC helpers beside one loop thread an event loop, not a thread pool', () => {
      expect(detectModel(node([0.05, 0.05, 0.04, 0.04])).model).toBe('event-loop'); // as measured on node:http
      // each helper just under the bar, and the loop still dominant
      const under = HELPER_WORK_SHARE - 0.01;
      expect(1 - 3 * under).toBeGreaterThanOrEqual(DOMINANT_THREAD_SHARE);
      expect(detectModel(node([under, under, under])).model).toBe('event-loop');
    });

    it('calls helpers that do real work beside the loop a hybrid', () => {
      const over = HELPER_WORK_SHARE + 0.01;
      expect(detectModel(node([over, over, 0.02])).model).toBe('hybrid');
      // no thread dominant, and more connections than working threads: nobody owns a connection
      expect(detectModel(node([0.2, 0.2, 0.2])).model).toBe('hybrid');
      expect(detectModel(node([0.2, 0.2, 0.2], 3)).model).toBe('thread-pool');
    });

    it('does not call one busy helper sharing the CPU evenly with the loop a hybrid or a pool: it says unknown', () => {
      // One helper is not handed-over work (beside a dominant loop it is an event loop); a pool of two looks the same.
      const found = detectModel(node([0.45, 0.1]));
      expect(found.model).toBe('unknown');
      expect(found.evidence[0]).toMatch(/^2 threads of PID 100 did most of its CPU, the busiest 45 %: one thread serving beside one busy helper/);
    });
  });

  describe('light load, where the runtime\'s own threads rival the serving one', () => {
    for (const [model, build] of Object.entries(LIGHT_LOAD)) {
      it(`names ${model} in ${SEEDS.length} noisy windows of it`, () => {
        for (const seed of SEEDS) {
          const found = detectModel(build(seeded(seed)));
          expect(found.model, `seed ${seed}: ${found.evidence.join('; ')}`).toBe(model);
        }
      });
    }

    // Windows as measured (ms of CPU in 5 s) on `srvlens serve --model event-loop-per-core --policy rr` under the agent.
    const idleV8 = [5, 2, 2, 0];

    it('does not take a worker\'s GC cycle for threads the server hands work to', () => {
      // 10 req/s on new connections: worker 2's 4 V8 threads ran a GC cycle, its loop did a third of its CPU.
      const w = clusterWindow([
        { t: { loop: 49, agent: 15, v8: [5, 4, 0, 0] }, inbound: 8 },
        { t: { loop: 49, agent: 33, v8: [27, 15, 12, 11] }, inbound: 7 },
      ]);
      const found = detectModel(w);
      expect(found.model, found.evidence.join('\n')).toBe('event-loop-per-core');
      expect(found.evidence).toContainEqual(expect.stringMatching(/^1 of the 2 workers that served also ran busy helper threads in this window \(4 threads of PID 300 shared the work/));
    });

    it('does not take the agent\'s thread beside a loop for two threads sharing the work', () => {
      // 3 req/s: worker 2's loop 32 ms beside the agent's 30 ms, under half its process's CPU.
      const w = clusterWindow([
        { t: { loop: 45, agent: 31, v8: idleV8 }, inbound: 2 },
        { t: { loop: 32, agent: 30, v8: [5, 3, 0, 0] }, inbound: 2 },
      ]);
      const found = detectModel(w);
      expect(found.model, found.evidence.join('\n')).toBe('event-loop-per-core');
      expect(threadShape(w.processes[2], w.contexts)).toMatchObject({ kind: 'pair', evidence: expect.stringMatching(/^2 threads of PID 300 did most of its CPU, the busiest 4\d %/) });
    });

    it('lets a worker that held no connection say nothing about how the server works', () => {
      // policy none, 10 req/s on 10 keep-alive connections that all went to worker 2; worker 1 only kept house.
      const w = clusterWindow([
        { t: { loop: 22, agent: 63, v8: [26, 23, 21, 18] }, inbound: 0 },
        { t: { loop: 90, agent: 24, v8: [4, 0, 0, 0] }, inbound: 10 },
      ]);
      expect(detectModel(w).model).toBe('event-loop-per-core');
    });

    it('still names a hybrid at 10 req/s, one process or workers that each hand work to a pool', () => {
      const hybrid = { loop: 54, agent: 22, v8: [9, 7, 3, 3], pool: [42, 33] };
      const one = nodeProcess(ROOT, 1, hybrid, { inbound_max: 10 });
      expect(detectModel(window([one.proc], one.threads)).model).toBe('hybrid');
      const workers = detectModel(clusterWindow([{ t: hybrid, inbound: 5 }, { t: hybrid, inbound: 5 }, { t: { loop: 20, agent: 20, v8: idleV8 }, inbound: 0 }]));
      expect(workers.model).toBe('hybrid');
      expect(workers.evidence[1]).toMatch(/^2 of the 2 workers that served run several threads each: /);
    });
  });

  describe('processes made for connections', () => {
    // A master and `n` children that were created (or ended) during the window, each holding `held` connections.
    const churn = (n: number, held: number, life: { born?: boolean; ended?: boolean }) => {
      const master = ctx(ROOT, ROOT, 20);
      const kids = Array.from({ length: n }, (_, i) => ctx(ROOT + 1 + i, ROOT + 1 + i, 30, life));
      return window([proc(ROOT, 1, [master]), ...kids.map((k) => proc(k.pid, ROOT, [k], { ...life, inbound_max: held }))], [master, ...kids]);
    };

    it('counts children that each took a connection, created before any ended or ending with none new', () => {
      const arriving = detectModel(churn(8, 1, { born: true }));
      expect(arriving.model).toBe('fork-per-connection');
      expect(arriving.evidence[0]).toBe('processes created during the window: 8, ended: 0');
      expect(arriving.confidence).toBe('high');
      expect(detectModel(churn(8, 1, { ended: true })).model).toBe('fork-per-connection');
    });

    it('is less sure of children that came and went between readings of the TCP tables, none seen holding its connection', () => {
      const found = detectModel(churn(8, 0, { born: true, ended: true }));
      expect(found).toMatchObject({ model: 'fork-per-connection', confidence: 'medium' });
      expect(found.evidence).toContainEqual(expect.stringMatching(/^fewer than 3 were seen holding their connection: /));
    });

    it('does not call new workers that multiplex, or a pool ending idle workers, a process per connection', () => {
      expect(detectModel(churn(8, 5, { born: true })).model).not.toBe('fork-per-connection');
      expect(detectModel(churn(8, 0, { ended: true })).model).not.toBe('fork-per-connection');
      expect(detectModel(churn(2, 1, { born: true })).model).not.toBe('fork-per-connection'); // fewer than MIN_PROCESS_CHURN
    });
  });

  describe('a pool under connections shorter than the sampling, none caught open twice', () => {
    // A master and `n` single-threaded workers sharing its listener, each having run `cpuMs` (ctx: 3 wakeups per ms)
    // and slept mostly in `wait`, holding `held[i]` connections at most at a sample (0 by default).
    const pool = (n: number, o: { cpuMs?: number[]; wait?: string | null; held?: number[]; cores?: number } = {}) => {
      const master = ctx(ROOT, ROOT, 1, { wait: 'poll_schedule_timeout.constprop.0' });
      const workers = Array.from({ length: n }, (_, i) => ctx(ROOT + 1 + i, ROOT + 1 + i, o.cpuMs?.[i] ?? 40, { wait: o.wait === undefined ? 'inet_csk_accept' : o.wait }));
      const procs = [proc(ROOT, 1, [master]), ...workers.map((c, i) => proc(c.pid, ROOT, [c], { holds_listener: true, inbound_max: o.held?.[i] ?? 0 }))];
      return { ...window(procs, [master, ...workers]), cores: o.cores ?? 2 };
    };

    it('names prefork, sure of it, when the workers that served sleep in accept', () => {
      const found = detectModel(pool(5));
      expect(found).toMatchObject({ model: 'prefork', confidence: 'high' });
      expect(found.evidence).toContain('no worker was seen holding a connection: connections shorter than the sampling interval come and go between samples');
      expect(found.evidence).toContain('5 of the 5 workers served in the window: they woke 120 times each in 2.0 s (voluntary context switches)');
      expect(found.evidence).toContain('5 of the 5 workers that served sleep in accept (inet_csk_accept): a worker takes one connection and serves it before it takes the next');
    });

    it('is less sure where the wait channel does not say accept', () => {
      // Seen one at a time in two workers, where they sleep unknown: as before, prefork.
      expect(detectModel(pool(5, { wait: null, held: [1, 1] }))).toMatchObject({ model: 'prefork', confidence: 'medium' });
      // ... in a multiplexer, where an event loop per core would sleep too.
      expect(detectModel(pool(2, { wait: 'do_epoll_wait', held: [1, 1] }))).toMatchObject({ model: 'prefork', confidence: 'low' });
      // Nothing seen held, where they sleep unknown: more workers than cores is a pool sized for connections.
      expect(detectModel(pool(5, { wait: null }))).toMatchObject({ model: 'prefork', confidence: 'low' });
      // As many as the cores, sleeping in epoll: nginx under short connections.
      const nginx = detectModel(pool(2, { wait: 'do_epoll_wait' }));
      expect(nginx).toMatchObject({ model: 'event-loop-per-core', confidence: 'low' });
      expect(nginx.evidence).toContainEqual(expect.stringMatching(/^2 of the 2 workers that served sleep in a multiplexer \(do_epoll_wait\)/));
    });

    it('says unknown where the two hints left disagree', () => {
      // More workers than cores, but sleeping in epoll: a polling prefork pool, or loops on oversubscribed cores.
      expect(detectModel(pool(5, { wait: 'do_epoll_wait' })).model).toBe('unknown');
      // As many as the cores, where they sleep unknown.
      expect(detectModel(pool(2, { wait: null })).model).toBe('unknown');
    });

    it('says unknown for workers handed their work, not holding the listener, when nothing else tells', () => {
      const w = pool(5, { wait: null });
      for (const p of w.processes) p.holds_listener = p.pid === ROOT;
      const found = detectModel(w);
      expect(found.model).toBe('unknown');
      expect(found.evidence).toContainEqual(expect.stringMatching(/^not all the workers that served hold the listening socket/));
    });

    it('says unknown for workers that never served, or only one that did', () => {
      const idle = detectModel(pool(5, { cpuMs: [0, 0, 0, 0, 0] }));
      expect(idle).toMatchObject({ model: 'unknown', confidence: null });
      expect(idle.evidence).toContainEqual(expect.stringMatching(/^0 of the 5 workers served in the window \(held a connection, or woke at least 2 times a second\)/));
      // 1 ms of CPU is 3 wakeups in 2 s: housekeeping, under MIN_SERVING_WAKEUPS_PER_S.
      expect(detectModel(pool(5, { cpuMs: [1, 1, 1, 1, 1] })).model).toBe('unknown');
      expect(detectModel(pool(5, { cpuMs: [40, 0, 0, 0, 0] })).model).toBe('unknown');
    });

    it('says unknown for a master and a single worker, however it sleeps', () => {
      const found = detectModel(pool(1));
      expect(found.model).toBe('unknown');
      expect(found.confidence).toBeNull();
    });
  });

  it('says how sure it is of every model it names, and nothing with unknown', () => {
    for (const [model, build] of Object.entries(UNDER_LOAD)) {
      const found = detectModel(build(seeded(5)));
      expect(found.confidence, model).toMatch(/^(high|medium|low)$/);
    }
    expect(detectModel({ ...UNDER_LOAD['event-loop'](seeded(1)), samples: 1 }).confidence).toBeNull();
  });

  describe('says unknown, and why, when the window cannot tell', () => {
    const single = (inbound: number, peak: number) => {
      const main = ctx(ROOT, ROOT, 30);
      return window([proc(ROOT, 1, [main], { inbound_max: inbound })], [main], { peak });
    };

    it('an idle single-threaded server (iterative and event loop look alike)', () => {
      const found = detectModel(single(0, 0));
      expect(found.model).toBe('unknown');
      expect(found.evidence).toContain('serving one connection at a time and multiplexing look alike when no two connections are open at once: drive concurrent connections while attaching');
    });

    it('a single-threaded server under one-connection-at-a-time load', () => {
      expect(detectModel(single(1, 0)).model).toBe('unknown');
      expect(detectModel(single(1, 1)).model).toBe('iterative');
      expect(detectModel(single(2, 0)).model).toBe('event-loop');
    });

    it('an idle Node process: 11 threads and next to no CPU', () => {
      const threads = Array.from({ length: 11 }, (_, i) => ctx(ROOT, ROOT + i, i === 0 ? 3 : 0.2));
      const found = detectModel(window([proc(ROOT, 1, threads, { inbound_max: 3 })], threads));
      expect(found.model).toBe('unknown');
      expect(found.evidence[0]).toMatch(/11 threads ran [\d.]+ ms of CPU in all: too little to tell which serve/);
    });

    it('idle nginx: workers with no connection', () => {
      const master = ctx(ROOT, ROOT, 0);
      const workers = [1, 2].map((i) => ctx(ROOT + i, ROOT + i, 0));
      const w = window([proc(ROOT, 1, [master]), ...workers.map((c) => proc(c.pid, ROOT, [c], { holds_listener: true }))], [master, ...workers]);
      const found = detectModel(w);
      expect(found.model).toBe('unknown');
      expect(found.evidence[0]).toBe('2 worker processes of the same executable (/usr/sbin/srv) under one master (PID 100)');
    });

    it('connections it could not read', () => {
      const main = ctx(ROOT, ROOT, 300);
      const found = detectModel(window([proc(ROOT, 1, [main], { sockets_readable: false })], [main]));
      expect(found.model).toBe('unknown');
      expect(found.evidence).toContain(`the fds of PID ${ROOT} could not be read (another user's process?): run as its user or root to see its sockets`);
    });

    it('a window of one sample', () => {
      const w = { ...UNDER_LOAD['event-loop'](seeded(1)), samples: 1 };
      expect(detectModel(w).model).toBe('unknown');
    });
  });

  it('is a pure function of the window', () => {
    const w = UNDER_LOAD.prefork(seeded(3));
    const copy = structuredClone(w);
    expect(detectModel(w)).toEqual(detectModel(copy));
    expect(w).toEqual(copy);
  });
});
