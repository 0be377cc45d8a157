/**
 * The srvlens collector's front door: an OTLP/HTTP receiver on loopback. It accepts JSON metric exports from any
 * OpenTelemetry SDK and hands them on parsed; traces are accepted and counted (exemplars come in a later version).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { parseOtlpMetrics, type AgentInterval } from './otlp-json.js';

export interface Collector {
  port: number;
  /** The metrics endpoint to give agents (SRVLENS_COLLECTOR_URL). */
  metricsUrl: string;
  /** Export bodies that could not be read, with why; never fatal. */
  rejected: { reason: string }[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

export async function startCollector(options: {
  intervalMs: number;
  onAgentIntervals: (intervals: AgentInterval[]) => void;
  host?: string;
  port?: number;
}): Promise<Collector> {
  const rejected: { reason: string }[] = [];
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method !== 'POST' || (req.url !== '/v1/metrics' && req.url !== '/v1/traces')) {
        return reply(404, { error: 'srvlens collector: POST /v1/metrics or /v1/traces' });
      }
      const type = String(req.headers['content-type'] ?? '');
      const body = await readBody(req);
      if (!type.includes('json')) {
        rejected.push({ reason: `unsupported content-type ${type}` });
        return reply(415, { error: 'srvlens collector: this version reads OTLP/HTTP JSON only' });
      }
      if (req.url === '/v1/metrics') options.onAgentIntervals(parseOtlpMetrics(JSON.parse(body.toString('utf8')), options.intervalMs));
      reply(200, {});
    } catch (err) {
      rejected.push({ reason: (err as Error).message });
      reply(400, { error: (err as Error).message });
    }
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    metricsUrl: `http://127.0.0.1:${port}/v1/metrics`,
    rejected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
