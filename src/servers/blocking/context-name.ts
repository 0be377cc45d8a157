/**
 * Names the calling thread's execution context, for the agent (nameContext) and for anything reading /proc
 * (top -H, ps -L, the /proc sampler): every thread of a node process is called `node` until it says otherwise.
 */
import { writeFileSync } from 'node:fs';
import { nameContext } from '../../vocabulary/stage-hook.js';

/** The kernel keeps 15 bytes of a thread's name. */
const COMM_MAX = 15;

export function nameThisThread(name: string): void {
  nameContext(name, false);
  try {
    // Synchronous fs calls run on the calling thread, so thread-self is this thread, even in a worker.
    writeFileSync('/proc/thread-self/comm', name.slice(0, COMM_MAX));
  } catch {
    // no /proc (not Linux): the agent's name still stands
  }
}
