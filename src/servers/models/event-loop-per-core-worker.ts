/**
 * One worker of the event-loop-per-core model: a cluster worker running the event-loop model's server. Its config
 * comes in the environment from the primary (event-loop-per-core.ts); it answers with a WorkerMessage.
 * Imported by the primary for the names below; it starts a server only when run as a cluster worker.
 */
import cluster from 'node:cluster';
import diagnostics from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { nameContext } from '../../vocabulary/stage-hook.js';
import { startEventLoopServer } from './event-loop.js';
import { modelProcessTitle, type ModelServerOptions } from './model-server.js';

export const PER_CORE_CONFIG_ENV = 'SRVLENS_PER_CORE_CONFIG';
export const PER_CORE_INDEX_ENV = 'SRVLENS_PER_CORE_INDEX';
/** The response header naming the worker process that served it, so a client can see the spread. */
export const PID_HEADER = 'x-srvlens-pid';
/** Sent by the primary to stop a worker gracefully: its agent gets to export its last interval. */
export const STOP_MESSAGE = 'srvlens:stop';
export type WorkerMessage = { type: 'ready'; port: number } | { type: 'error'; message: string };

async function runWorker(): Promise<void> {
  const index = Number(process.env[PER_CORE_INDEX_ENV]);
  process.title = `${modelProcessTitle('event-loop-per-core')}:worker-${index}`;
  nameContext(`loop-${index}`, true);
  try {
    // process.title renamed the main thread to a truncated title; the loop's own name says which one it is.
    writeFileSync('/proc/thread-self/comm', `loop-${index}`);
  } catch {
    // no /proc (not Linux)
  }
  // The event-loop model's server is reused as it is; the PID header is added from outside through the channel
  // node:http publishes before calling the handler, so that model's code stays the same in both places.
  const pid = String(process.pid);
  diagnostics.subscribe('http.server.request.start', (message) => {
    (message as { response: ServerResponse }).response.setHeader(PID_HEADER, pid);
  });
  try {
    const config = JSON.parse(process.env[PER_CORE_CONFIG_ENV] ?? '') as ModelServerOptions;
    const server = await startEventLoopServer(config);
    process.on('message', (m) => {
      // With the server and the backend client closed, leaving the cluster leaves nothing to keep the loop alive,
      // so the process ends by itself (worker.disconnect, unlike process.disconnect, is not taken for a lost primary).
      if (m === STOP_MESSAGE) void server.close().then(() => cluster.worker?.disconnect());
    });
    send({ type: 'ready', port: server.port });
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) }, () => process.exit(1));
  }
}

function send(message: WorkerMessage, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}

if (cluster.isWorker && process.env[PER_CORE_CONFIG_ENV] !== undefined) await runWorker();
