/**
 * The event-loop reference model: one thread, one `node:http` server, every request's waits (the backend, the
 * socket) overlapped on the loop, every request's CPU serialised on it.
 */
import http from 'node:http';
import { connectBackend } from '../backend/backend-client.js';
import { listenHttp } from './listen-http.js';
import type { ModelServerOptions, RunningServer } from './model-server.js';
import { resolveWorkload, workloadHandler } from '../workload/workload.js';

export async function startEventLoopServer(opts: ModelServerOptions): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 0 } = opts;
  const workload = resolveWorkload(opts.workload);
  const backend = await connectBackend(opts.backend);
  const server = http.createServer(workloadHandler(workload, backend));
  return listenHttp(server, host, port, () => backend.close());
}
