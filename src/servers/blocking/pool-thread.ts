/**
 * A thread of the iterative server (one of them) or of the thread pool (N of them): made up front, it blocks in
 * accept on the listening socket all threads share, and serves one connection at a time over its own backend
 * connection. Started by BlockingServer.startThread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SyncBackendClient } from './backend-client-sync.js';
import { acceptLoop } from './accept-loop.js';
import type { ThreadData } from './blocking-server.js';
import { backendSlot, ContextControl, connSlot } from './context-control.js';
import { nameThisThread } from './context-name.js';
import { servingContext } from './serve-connection.js';

export interface PoolThreadData extends ThreadData {
  /** Its pair of fd slots in the ContextControl. */
  pair: number;
  name: string;
}

const data = workerData as PoolThreadData;
const control = new ContextControl(data.control);
nameThisThread(data.name);
// Connecting here, before 'ready', makes a missing backend fail the server's start rather than its requests.
const backend = SyncBackendClient.connect(data.backend);
try {
  if (control.publish(backendSlot(data.pair), backend.fd)) {
    parentPort?.postMessage({ type: 'ready' });
    acceptLoop(data.listenFd, servingContext(data.workload, backend), { control, slot: connSlot(data.pair) });
  }
} finally {
  control.retract(backendSlot(data.pair));
  backend.close();
}
