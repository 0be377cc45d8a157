/**
 * A pool of worker threads that burn a stage's CPU off the event loop (the helpers of Flash's AMPED design): a job
 * waits in a FIFO queue until a thread is free, and each thread runs one job at a time.
 *
 * Node's worker threads are whole V8 isolates (megabytes each, tens of ms to start), far heavier than the helper
 * threads of a C server; they are started once, up front, so only the hand-off (two messages) is per job.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

interface Job {
  us: number;
  /** Where the threadId of the thread that ran it goes. */
  ranOn: number[];
  resolve(): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class CpuPool {
  private readonly queue: Job[] = [];
  private readonly idle: Slot[] = [];
  private failure: Error | null = null;

  private constructor(private readonly slots: Slot[]) {
    for (const slot of slots) {
      slot.worker.on('message', (threadId: number) => this.finished(slot, threadId));
      slot.worker.on('error', (err) => this.fail(new Error(`cpu pool thread ${slot.worker.threadId} failed: ${err.message}`)));
      slot.worker.on('exit', (code) => this.fail(new Error(`cpu pool thread ${slot.worker.threadId} exited (${code})`)));
      this.idle.push(slot);
    }
  }

  /** Starts `threads` threads from `file` (a file, not eval, so that an --import preload reaches them). */
  static async start(file: URL, threads: number): Promise<CpuPool> {
    const workers = Array.from({ length: threads }, (_, index) => new Worker(file, { workerData: { index } }));
    try {
      // Each thread says it is ready once it has named itself.
      await Promise.all(workers.map((w) => once(w, 'message')));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new CpuPool(workers.map((worker) => ({ worker, job: null })));
  }

  /** Burns `us` µs of CPU on a pool thread; resolves once it is done, with that thread's threadId pushed on `ranOn`. */
  run(us: number, ranOn: number[]): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const job = { us, ranOn, resolve, reject };
      const slot = this.idle.pop();
      if (slot === undefined) this.queue.push(job);
      else this.assign(slot, job);
    });
  }

  /** Jobs waiting for a thread: the pool's queue length. */
  get waiting(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    this.fail(new Error('cpu pool was closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private assign(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.postMessage(job.us);
  }

  private finished(slot: Slot, threadId: number): void {
    const job = slot.job;
    slot.job = null;
    const next = this.queue.shift();
    if (next === undefined) this.idle.push(slot);
    else this.assign(slot, next);
    if (job === null) return;
    job.ranOn.push(threadId);
    job.resolve();
  }

  /** A lost thread fails the pool: a reference server that shrank silently would measure the wrong model. */
  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    for (const job of this.queue.splice(0)) job.reject(err);
    for (const slot of this.slots) {
      slot.job?.reject(err);
      slot.job = null;
    }
  }
}
