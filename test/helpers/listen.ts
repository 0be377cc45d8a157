/** Test servers on loopback port 0, closed after each test by `closeListeners` (register it with afterEach). */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';

const servers: net.Server[] = [];

export async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await once(server.listen(0, '127.0.0.1'), 'listening');
  return (server.address() as net.AddressInfo).port;
}

export function closeListeners(): void {
  for (const s of servers.splice(0)) {
    if (s instanceof http.Server) s.closeAllConnections();
    s.close();
  }
}

/** A port nothing listens on now (the kernel's pick, then closed): for a server another process is to start. */
export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
