/**
 * The srvlens collector's front door: an OTLP/HTTP receiver, on loopback unless told otherwise (and then only with
 * a token, which every export must carry as a bearer: vocabulary/exposure.ts). It accepts metric and trace exports
 * from any OpenTelemetry SDK, JSON or protobuf, and hands them on as per-interval agent data (spans mapped onto the
 * parts by SpanMapper).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { parseOtlpMetrics, type AgentInterval } from './otlp-json.js';
import { FUTURE_INTERVALS, MAX_BODY_BYTES, MAX_ITEMS_PER_EXPORT, OtlpRejected, PAST_INTERVALS, otlpMessage } from './otlp-limits.js';
import { countProtoItems, decodeMetricsProto, decodeTracesProto } from './otlp-proto.js';
import { SpanMapper } from './otlp-spans.js';
import { bearerProblem, requireTokenBeyondLoopback } from '../vocabulary/exposure.js';
import { intervalIndex, monoMs } from '../vocabulary/clock.js';

export interface Collector {
  port: number;
  /** The metrics endpoint to give agents (SRVLENS_COLLECTOR_URL). */
  metricsUrl: string;
  /** Export bodies that could not be read, with why; never fatal. The last MAX_KEPT_REJECTIONS only. */
  rejected: { reason: string }[];
  /** Every export refused since the start. */
  rejectedCount(): number;
  close(): Promise<void>;
}

const inflate = promisify(gunzip);
/** A hostile sender could fill memory with rejections alone: the reasons kept are the latest few. */
const MAX_KEPT_REJECTIONS = 100;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new OtlpRejected(413, `body of ${declared} bytes: at most ${MAX_BODY_BYTES}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new OtlpRejected(413, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  if (req.headers['content-encoding'] !== 'gzip') return body;
  // Asynchronous, so that one big body does not stop the others; bounded, so that a gzip bomb inflates no further.
  try {
    return await inflate(body, { maxOutputLength: MAX_BODY_BYTES });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new OtlpRejected(413, `gzip body inflates past ${MAX_BODY_BYTES} bytes`);
    throw new OtlpRejected(400, `gzip body cannot be inflated: ${e.message}`);
  }
}

/**
 * Intervals within the window the collector takes (otlp-limits.ts), and how many were not. An interval index far
 * from now would make a frame assembler emit every frame in between (10^12 empty frames for a timestamp of 0).
 */
function inWindow(intervals: AgentInterval[], intervalMs: number): { kept: AgentInterval[]; outside: number } {
  const now = intervalIndex(monoMs(), intervalMs);
  const kept = intervals.filter((a) => a.index >= now - PAST_INTERVALS && a.index <= now + FUTURE_INTERVALS);
  return { kept, outside: intervals.length - kept.length };
}

/** An export as decoded: OTLP JSON's shape, from either encoding (otlp-proto.ts), not yet checked. */
type ExportBody = Parameters<typeof parseOtlpMetrics>[0];

/** JSON.parse, with what was wrong and where as the reason. */
function parseJson(body: Buffer): ExportBody {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new OtlpRejected(400, `not JSON: ${(err as Error).message}`);
  }
}

function decodeProto(body: Buffer, metrics: boolean): ExportBody {
  let items: number;
  try {
    items = countProtoItems(body, metrics);
  } catch (err) {
    throw new OtlpRejected(400, `not an OTLP ${metrics ? 'metrics' : 'traces'} protobuf: ${(err as Error).message}`);
  }
  if (items > MAX_ITEMS_PER_EXPORT) throw new OtlpRejected(413, `more than ${MAX_ITEMS_PER_EXPORT} ${metrics ? 'data points' : 'spans'} in one export: send them in several`);
  try {
    return metrics ? decodeMetricsProto(body) : decodeTracesProto(body);
  } catch (err) {
    throw new OtlpRejected(400, `not an OTLP ${metrics ? 'metrics' : 'traces'} protobuf: ${(err as Error).message}`);
  }
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
  let rejectedCount = 0;
  const reject = (reason: string) => {
    rejectedCount++;
    rejected.push({ reason });
    if (rejected.length > MAX_KEPT_REJECTIONS) rejected.shift();
  };
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
        reject(`unsupported content-type ${type}`);
        return reply(415, { error: 'srvlens collector: OTLP/HTTP takes application/json or application/x-protobuf' });
      }
      const metrics = req.url === '/v1/metrics';
      const parsed = json ? parseJson(body) : decodeProto(body, metrics);
      otlpMessage(parsed, 'the export');
      const { kept, outside } = inWindow(metrics ? parseOtlpMetrics(parsed, options.intervalMs) : spans.ingest(parsed), options.intervalMs);
      if (outside > 0 && kept.length === 0) {
        throw new OtlpRejected(400, `every interval of the export is stamped more than ${PAST_INTERVALS} intervals before now or ${FUTURE_INTERVALS} after: is the sender's clock right?`);
      }
      if (outside > 0) reject(`${outside} intervals of an export were outside the window taken`);
      options.onAgentIntervals(kept);
      // An empty ExportServiceResponse: JSON `{}` for JSON clients, zero bytes of protobuf for protobuf ones.
      if (json) reply(200, {});
      else {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      }
    } catch (err) {
      const status = err instanceof OtlpRejected ? err.status : 400;
      reject((err as Error).message);
      // The rest of a body too big to read is not waited for: the connection goes once the answer is out.
      if (status === 413) res.setHeader('connection', 'close');
      if (!res.headersSent) reply(status, { error: `srvlens collector: ${(err as Error).message}` });
    }
  });
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    metricsUrl: `http://127.0.0.1:${port}/v1/metrics`,
    rejected,
    rejectedCount: () => rejectedCount,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
