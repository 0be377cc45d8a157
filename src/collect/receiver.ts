/**
 * The srvlens collector's front door: an OTLP/HTTP receiver, on loopback unless told otherwise (and then only with
 * a token, which every export must carry as a bearer: vocabulary/exposure.ts). It accepts metric and trace exports
 * from any OpenTelemetry SDK, JSON or protobuf, and hands them on as per-interval agent data (spans mapped onto the
 * parts by SpanMapper).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { parseOtlpMetrics, type AgentInterval } from './otlp-json.js';
import { decodeMetricsProto, decodeTracesProto } from './otlp-proto.js';
import { SpanMapper } from './otlp-spans.js';
import { bearerProblem, requireTokenBeyondLoopback } from '../vocabulary/exposure.js';

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
  /** What a source sent that cannot be shown as it expects (spans without any server span), in words; once each. */
  onNotice?: (message: string) => void;
  host?: string;
  port?: number;
  /** When set, every request must carry `Authorization: Bearer TOKEN`; required for a host beyond loopback. */
  token?: string | null;
  /** How the user gave the host, for the refusal's message (default `host ADDRESS`). */
  hostSetting?: string;
}): Promise<Collector> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? null;
  requireTokenBeyondLoopback(host, token, options.hostSetting ?? `host ${host}`);
  const rejected: { reason: string }[] = [];
  const spans = new SpanMapper(options.intervalMs, options.onNotice);
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method !== 'POST' || (req.url !== '/v1/metrics' && req.url !== '/v1/traces')) {
        return reply(404, { error: 'srvlens collector: POST /v1/metrics or /v1/traces' });
      }
      // Before the body is read: an export without the token costs no more than its headers.
      const denied = token === null ? null : bearerProblem(req.headers.authorization, token);
      if (denied !== null) {
        res.setHeader('www-authenticate', 'Bearer realm="srvlens"');
        res.setHeader('connection', 'close');
        return reply(401, { error: `srvlens collector: ${denied}` });
      }
      const type = String(req.headers['content-type'] ?? '');
      const body = await readBody(req);
      const json = type.includes('json');
      if (!json && !type.includes('protobuf')) {
        rejected.push({ reason: `unsupported content-type ${type}` });
        return reply(415, { error: 'srvlens collector: OTLP/HTTP takes application/json or application/x-protobuf' });
      }
      if (req.url === '/v1/metrics') {
        const parsed = json ? JSON.parse(body.toString('utf8')) : decodeMetricsProto(body);
        options.onAgentIntervals(parseOtlpMetrics(parsed, options.intervalMs));
      } else {
        const parsed = json ? JSON.parse(body.toString('utf8')) : decodeTracesProto(body);
        options.onAgentIntervals(spans.ingest(parsed));
      }
      // An empty ExportServiceResponse: JSON `{}` for JSON clients, zero bytes of protobuf for protobuf ones.
      if (json) reply(200, {});
      else {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      }
    } catch (err) {
      rejected.push({ reason: (err as Error).message });
      reply(400, { error: (err as Error).message });
    }
  });
  server.listen(options.port ?? 0, host);
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
