/**
 * A thread of the hybrid model's CPU pool (cpu-pool.ts): names itself, then burns the CPU of each job it is given
 * and answers with its threadId, so the main thread (and a test) can see where the stage ran.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { nameContext } from '../../vocabulary/stage-hook.js';
import { burnCpu } from '../workload/cpu-burn.js';

if (parentPort !== null) {
  const port = parentPort;
  const name = `cpu-${(workerData as { index: number }).index}`;
  // hasLoop: the thread has an event loop (it waits for jobs on it), though each job keeps it busy throughout.
  nameContext(name, true);
  try {
    // Every thread of a node process is `node` to the kernel until it says otherwise (ps -L, top -H, /proc).
    writeFileSync('/proc/thread-self/comm', name);
  } catch {
    // no /proc (not Linux)
  }
  port.on('message', (us: number) => {
    burnCpu(us);
    port.postMessage(threadId);
  });
  port.postMessage(threadId);
}
