/**
 * The acceptor of the fork-per-connection model: blocks in accept and hands each connection's fd to the main
 * thread, which forks a process for it (fork must run where the ChildProcess objects live). At `maxProcesses`
 * alive it sleeps until one exits, and new clients wait in the kernel's accept queue.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { monoMs } from '../../vocabulary/clock.js';
import type { ThreadData } from './blocking-server.js';
import { ContextControl } from './context-control.js';
import { nameThisThread } from './context-name.js';
import { blocking, errnoCode } from '../native.js';
import { acceptClient } from './accept-client.js';

export interface HandoffAcceptorData extends ThreadData {
  maxProcesses: number;
}

/** Main thread <- acceptor: a connection to fork for; the main thread closes its copy of the fd once forked. */
export interface HandoffMessage {
  type: 'connection';
  fd: number;
  acceptMs: number;
}

const data = workerData as HandoffAcceptorData;
const control = new ContextControl(data.control);
const api = blocking();
nameThisThread('acceptor');
parentPort?.postMessage({ type: 'ready' });

// No timeout: this thread's event loop has nothing to do (the main thread reaps the children and releases).
while (control.acquire(data.maxProcesses) === 'acquired') {
  let fd: number;
  try {
    fd = acceptClient(api, data.listenFd, control);
  } catch (err) {
    control.release();
    if (errnoCode(err) === 'EINVAL' || errnoCode(err) === 'EBADF') break; // shut down: stopping
    throw err;
  }
  // postMessage queues to the main thread at once; this thread's own event loop need not run.
  const message: HandoffMessage = { type: 'connection', fd, acceptMs: monoMs() };
  parentPort?.postMessage(message);
}
