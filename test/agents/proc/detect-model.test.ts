import { describe, expect, it } from 'vitest';
import { detectModel } from '../../../agents/proc/detect-model.js';
import { DOMINANT_THREAD_SHARE, HELPER_WORK_SHARE } from '../../../agents/proc/thread-shape.js';
import { ROOT, UNDER_LOAD, ctx, proc, seeded, window } from './synthetic-windows.js';

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
      expect(detectModel(churn(8, 1, { ended: true })).model).toBe('fork-per-connection');
    });

    it('does not call new workers that multiplex, or a pool ending idle workers, a process per connection', () => {
      expect(detectModel(churn(8, 5, { born: true })).model).not.toBe('fork-per-connection');
      expect(detectModel(churn(8, 0, { ended: true })).model).not.toBe('fork-per-connection');
      expect(detectModel(churn(2, 1, { born: true })).model).not.toBe('fork-per-connection'); // fewer than MIN_PROCESS_CHURN
    });
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
