/**
 * Starting and stopping a node:http reference server: listen (releasing what the model holds if that fails), and a
 * close that does not wait for idle keep-alive connections.
 */
import { once } from 'node:events';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from './model-server.js';

/** `release` frees what the model holds besides the server (its backend client, its threads). */
export async function listenHttp(server: http.Server, host: string, port: number, release: () => Promise<unknown>): Promise<RunningServer> {
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    await release();
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
      await release();
    },
  };
}
