import { readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { TaskReader } from '../../agents/node/thread-stats.js';

describe('TaskReader', () => {
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
      const reader = new TaskReader();
      const first = reader.readAll();
      const asleep = first.get(tid)!;
      expect(asleep).toBeDefined();
      const spinUntil = performance.now() + 20;
      while (performance.now() < spinUntil); // this thread runs between the two reads
      const second = reader.readAll(first);
      expect(second.get(tid)).toBe(asleep);
      const main = second.get(process.pid)!;
      expect(main).not.toBe(first.get(process.pid));
      expect(main.onCpuMs).toBeGreaterThan(first.get(process.pid)!.onCpuMs);
      // Re-read from the files kept open, the figures are those a reader reading every file by name sees.
      const byName = new TaskReader().readAll().get(process.pid)!;
      expect(byName.comm).toBe(main.comm);
      expect(byName.userTicks + byName.systemTicks).toBeGreaterThanOrEqual(main.userTicks + main.systemTicks);
      expect(byName.voluntary).toBeGreaterThanOrEqual(main.voluntary);
      expect(main.voluntary).toBeGreaterThan(0);
    } finally {
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
      await sleeper.terminate();
    }
  });

  it('picks up a thread born since the last read, and forgets one that exited, closing the files it kept open for it', async () => {
    const reader = new TaskReader();
    const first = reader.readAll();
    const worker = new Worker(
      `require('node:worker_threads').parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    const [tid] = (await once(worker, 'message')) as [number];
    const openFor = (t: number) =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes(`/task/${t}/`);
        } catch {
          return false; // the directory's own descriptor, gone once listed
        }
      }).length;
    expect(first.has(tid)).toBe(false);
    const second = reader.readAll(first);
    expect(second.get(tid)?.onCpuMs).toBeGreaterThan(0);
    expect(openFor(tid)).toBe(3); // schedstat, stat, status
    await worker.terminate();
    const third = reader.readAll(second);
    expect(third.has(tid)).toBe(false);
    expect(third.has(process.pid)).toBe(true);
    expect(openFor(tid)).toBe(0);
  });
});
