/**
 * The overhead bench's plain app: a node:http application as users write it, with no srvlens import and no stage
 * marks, whose handler makes one outgoing GET to an upstream, reads its answer, then answers. What the agent does
 * here it does through `node --import` alone: the automatic downstream timing of outgoing calls.
 *
 * Environment: PLAIN_APP_UPSTREAM (the URL), PLAIN_APP_CLIENT (`http`: node:http with a keep-alive http.Agent;
 * `fetch`: the global fetch), PLAIN_APP_RESPONSE_BYTES. Forked by the bench: sends `{ type: 'ready', port, pid }`
 * over IPC once listening, and exits when the channel closes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = process.env.PLAIN_APP_UPSTREAM ?? '';
const client = process.env.PLAIN_APP_CLIENT;
const body = Buffer.alloc(Number(process.env.PLAIN_APP_RESPONSE_BYTES ?? 64), 'x');
if (!upstream.startsWith('http://') || (client !== 'http' && client !== 'fetch')) {
  process.stderr.write('plain-app: set PLAIN_APP_UPSTREAM=http://HOST:PORT/ and PLAIN_APP_CLIENT=http|fetch\n');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true });

function getWithHttp(): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(upstream, { agent }, (res) => {
        res.on('error', reject);
        res.on('end', resolve);
        res.resume();
      })
      .on('error', reject);
  });
}

async function getWithFetch(): Promise<void> {
  const res = await fetch(upstream);
  await res.arrayBuffer();
}

const call = client === 'http' ? getWithHttp : getWithFetch;

const server = http.createServer(async (_req, res) => {
  try {
    await call();
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  } catch (err) {
    res.statusCode = 502;
    res.end(`upstream: ${(err as Error).message}`);
  }
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port, pid: process.pid });
});
process.on('disconnect', () => process.exit(0));
