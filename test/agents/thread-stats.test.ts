import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { readAllTasks } from '../../agents/node/thread-stats.js';

describe('readAllTasks', () => {
  it("keeps a thread's last counters while it has not run, and reads afresh a thread that ran", async () => {
    // A thread asleep in the kernel for the whole test: its schedstat does not move between the reads.
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const sleeper = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
       parentPort.postMessage(tid);
       Atomics.wait(new Int32Array(workerData), 0, 0);`,
      { eval: true, workerData: cell.buffer },
    );
    try {
      const [tid] = (await once(sleeper, 'message')) as [number];
      await new Promise((r) => setTimeout(r, 50)); // past its last steps into the wait
      const first = readAllTasks();
      const asleep = first.get(tid)!;
      expect(asleep).toBeDefined();
      const spinUntil = performance.now() + 20;
      while (performance.now() < spinUntil); // this thread runs between the two reads
      const second = readAllTasks(first);
      expect(second.get(tid)).toBe(asleep);
      const main = second.get(process.pid)!;
      expect(main).not.toBe(first.get(process.pid));
      expect(main.onCpuMs).toBeGreaterThan(first.get(process.pid)!.onCpuMs);
    } finally {
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
      await sleeper.terminate();
    }
  });
});
