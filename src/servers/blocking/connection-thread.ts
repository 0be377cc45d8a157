/**
 * A thread of the thread-per-connection model: started by the acceptor for one connection (its fd already
 * published in the ContextControl), it opens its own backend connection, serves the client to the end, and ends.
 * Its start, an isolate's, is on that connection's first request's path, in server_queue.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SyncBackendClient } from './backend-client-sync.js';
import type { ThreadData } from './blocking-server.js';
import { backendSlot, ContextControl, connSlot } from './context-control.js';
import { nameThisThread } from './context-name.js';
import { blocking } from '../native.js';
import { serveConnection, servingContext } from './serve-connection.js';

export interface ConnectionThreadData extends ThreadData {
  fd: number;
  acceptMs: number;
  pair: number;
  name: string;
}

const data = workerData as ConnectionThreadData;
const control = new ContextControl(data.control);
// From here on this thread cleans up after itself; a thread that never got here (its modules failed to load) is
// cleaned up by the acceptor.
parentPort?.postMessage({ type: 'running' });
try {
  nameThisThread(data.name);
  // A backend that cannot be reached answers this connection's requests with 502, as a lost one would.
  const backend = SyncBackendClient.open(data.backend);
  try {
    if (backend.fd < 0 || control.publish(backendSlot(data.pair), backend.fd)) {
      serveConnection(data.fd, data.acceptMs, servingContext(data.workload, backend));
    }
  } finally {
    control.retract(backendSlot(data.pair));
    backend.close();
  }
} finally {
  control.retract(connSlot(data.pair));
  blocking().close(data.fd);
  // Its place under the cap is given back by the acceptor on this thread's 'exit', not here: an isolate tearing down
  // still holds its memory, and under a flood releasing here let 629 threads and 6.2 GB live under a cap of 64 (issue 19).
}
