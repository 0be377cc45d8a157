/**
 * A process of the prefork model (Apache's prefork MPM): made up front, it blocks in accept in its main thread on
 * the listening socket it inherited (fd CHILD_SOCKET_FD) and serves one connection at a time. It exits when the
 * socket is shut down (the server stops), and with its parent.
 */
import { sendToParent } from '../child-entry.js';
import { acceptLoop } from './accept-loop.js';
import { SyncBackendClient } from './backend-client-sync.js';
import type { ChildConfig } from './blocking-server.js';
import { nameThisThread } from './context-name.js';
import { CHILD_CONFIG_ENV, CHILD_SOCKET_FD } from './entries.js';
import { blocking } from '../native.js';
import { servingContext } from './serve-connection.js';

const config = JSON.parse(process.env[CHILD_CONFIG_ENV] ?? 'null') as ChildConfig | null;
if (config === null) throw new Error(`${CHILD_CONFIG_ENV} is not set: this file is forked by the prefork model`);
const api = blocking();
// Blocked in accept, this thread never sees the IPC 'disconnect': the kernel ends it with its parent instead.
if (!api.dieWithParent(config.parentPid)) process.exit(0);
// Title and name come from the parent: importing the model registry here would load every model on each start.
process.title = config.title;
nameThisThread(config.name);

let backend: SyncBackendClient;
try {
  backend = SyncBackendClient.connect(config.backend);
} catch (err) {
  await sendToParent({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
// Sent before blocking: once in accept, this thread's event loop (and so the IPC channel) no longer runs.
await sendToParent({ type: 'ready', port: 0, pid: process.pid });
try {
  acceptLoop(CHILD_SOCKET_FD, servingContext(config.workload, backend));
} finally {
  backend.close();
}
process.exit(0);
