/**
 * The event-loop reference model: one thread, one `node:http` server, every request's waits (the backend, the
 * socket) overlapped on the loop, every request's CPU serialised on it.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectBackend } from './backend-client.js';
import type { ModelServerOptions, RunningServer } from './models.js';
import { resolveWorkload, serveWorkload } from './workload.js';

export async function startEventLoopServer(opts: ModelServerOptions): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 0 } = opts;
  const workload = resolveWorkload(opts.workload);
  const backend = await connectBackend(opts.backend);
  const callBackend = (bytes: number): Promise<void> => backend.call(bytes);

  const server = http.createServer((req, res) => {
    void serveWorkload(req, res, workload, callBackend);
  });
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    await backend.close();
    throw err;
  }

  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const closed = once(server, 'close');
      server.close();
      // Idle keep-alive connections would otherwise hold close() for keepAliveTimeout.
      server.closeAllConnections();
      await closed;
      await backend.close();
    },
  };
}
