/**
 * A process of the fork-per-connection model: forked for one connection (on fd CHILD_SOCKET_FD), it opens its own
 * backend connection, serves the client to the end in its main thread, blocking, and exits. A whole Node starts
 * for each connection: that start is on the first request's path, in server_queue.
 */
import { SyncBackendClient } from './backend-client-sync.js';
import type { ChildConfig } from './blocking-server.js';
import { nameThisThread } from './context-name.js';
import { CHILD_CONFIG_ENV, CHILD_SOCKET_FD } from './entries.js';
import { blocking } from '../native.js';
import { serveConnection, servingContext } from './serve-connection.js';
import { handOffToParent } from '../../vocabulary/stage-hook.js';

const config = JSON.parse(process.env[CHILD_CONFIG_ENV] ?? 'null') as ChildConfig | null;
if (config === null) throw new Error(`${CHILD_CONFIG_ENV} is not set: this file is forked by the fork-per-connection model`);
const api = blocking();
// Blocked in recv, this thread never sees the IPC 'disconnect': the kernel ends it with its parent instead.
if (!api.dieWithParent(config.parentPid)) process.exit(0);
// Title and name come from the parent: importing the model registry here would load every model on each start.
process.title = config.title;
nameThisThread(config.name);

const backend = SyncBackendClient.open(config.backend);
try {
  serveConnection(CHILD_SOCKET_FD, config.acceptMs, servingContext(config.workload, backend));
} finally {
  backend.close();
  api.close(CHILD_SOCKET_FD);
}
// The client has its answer. What this process's agent measured goes to the parent's agent over the IPC channel
// (about a millisecond). Not flushAgent(): waiting for this process's own agent thread to load its exporter held
// each process ~0.5-1 s longer and cut the model's throughput fivefold (measured in the tour).
await handOffToParent();
process.exit(0);
