/** One GET / on loopback, its body read to the end and dropped: a plain client (a fresh connection each time). */
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';

export async function getRoot(port: number): Promise<void> {
  const req = request({ host: '127.0.0.1', port, path: '/' });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
}
