/**
 * The Prometheus scrape endpoint, served from the agent thread: it answers while the host's loop is stuck, and a
 * scrape never runs on the host's threads nor reaches its diagnostics channels (the agent thread has no recorder),
 * so scrapes are not counted as the host's requests.
 *
 * It never changes its host: the server is unref'd, every failure is caught and counted, and a port that cannot be
 * bound is said once on stderr, after which the agent carries on without the endpoint. So is an address beyond
 * loopback without SRVLENS_TOKEN: the agent cannot refuse to start its host, so it serves no endpoint instead. With a
 * token, every scrape must carry it as a bearer (Prometheus: `authorization: { credentials: TOKEN }`).
 */
import { writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { CONTENT_TYPE } from './prometheus-text.js';
import { bearerProblem, exposureRefusal } from '../../src/vocabulary/exposure.js';

export interface PrometheusEndpointOptions {
  host: string;
  /** 0 takes any free port (the returned server's address says which). */
  port: number;
  /** Asked of every scrape as `Authorization: Bearer TOKEN`; required for a host beyond loopback. */
  token: string | null;
  /** The page, built once per scrape. */
  render: () => string;
  /** Counts a failure the endpoint caught. */
  onError: () => void;
}

/** A scraper holds one connection; a few more leave room for a curl beside it, and bound what a flood can take. */
const MAX_CONNECTIONS = 16;
/** A scrape is one small GET: a client that has not sent its headers in this long is not a scraper. */
const HEADERS_TIMEOUT_MS = 10_000;

/**
 * Straight to fd 2, synchronously: the worker's process.stderr is relayed through the host's event loop, which may
 * be the very thing that is stuck.
 */
function say(line: string): void {
  try {
    writeSync(2, `${line}\n`);
  } catch {
    // stderr closed: nothing to tell
  }
}

/** The endpoint, listening (or saying on stderr why it could not); null when its address is not allowed. */
export function startPrometheusEndpoint(o: PrometheusEndpointOptions): Server | null {
  const refusal = exposureRefusal(o.host, o.token, `SRVLENS_PROMETHEUS_HOST=${o.host}`, 'SRVLENS_TOKEN=TOKEN in the app\'s environment');
  if (refusal !== null) {
    say(`srvlens agent: no Prometheus endpoint: ${refusal}; the agent carries on without it`);
    return null;
  }
  const token = o.token;
  const server = createServer((req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      const denied = token === null ? null : bearerProblem(req.headers.authorization, token);
      if (denied !== null) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="srvlens"', 'content-type': 'text/plain; charset=utf-8' }).end(`srvlens agent: ${denied}\n`);
      } else if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('srvlens agent: the metrics are at /metrics\n');
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET /metrics\n');
      } else {
        const body = o.render();
        res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      }
    } catch {
      o.onError();
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = HEADERS_TIMEOUT_MS;
  let listening = false;
  server.on('listening', () => {
    listening = true;
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    o.onError();
    if (listening) return;
    const where = `${o.host}:${o.port}`;
    const why = err.code === 'EADDRINUSE' ? `${where} is in use` : `cannot listen on ${where} (${err.code ?? err.message})`;
    say(`srvlens agent: no Prometheus endpoint: ${why} (SRVLENS_PROMETHEUS_HOST/PORT); the agent carries on without it`);
  });
  server.listen(o.port, o.host);
  server.unref();
  return server;
}
