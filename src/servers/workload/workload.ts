/**
 * The workload every reference model runs (ARCHITECTURE section 5), so that models differ only in how they
 * schedule it: a request's own workload, checked and laid over from its query string, and the node:http side of
 * its stage sequence (stage-sequence.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_WORKLOAD, type WorkloadParams } from '../../vocabulary/workload-params.js';
import type { BackendClient } from '../backend/backend-client.js';
import { ServerConfigError } from '../errors.js';
import { burnHere, failureText, type StageRunner, type StepWait, WorkloadRun } from './stage-sequence.js';

/**
 * What each backend call asks for: a row-sized reply. The workload's response_bytes is the HTTP response; the
 * backend's replies only need to be real bytes on a real socket.
 */
export const BACKEND_REPLY_BYTES = 128;

/** Fills in defaults and checks the values; throws ServerConfigError naming the field. */
export function resolveWorkload(params: Partial<WorkloadParams> = {}): WorkloadParams {
  const w = { ...DEFAULT_WORKLOAD, ...params };
  for (const key of Object.keys(DEFAULT_WORKLOAD) as (keyof WorkloadParams)[]) {
    const v = w[key];
    const integer = key === 'backend_calls' || key === 'response_bytes';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
      throw new ServerConfigError(`workload.${key} must be ${integer ? 'an integer' : 'a number'} >= 0, got ${v}`);
    }
  }
  return w;
}

/**
 * A request mix sends each entry's workload in the query string (`/report?process_us=15000&backend_calls=2`):
 * laid over the server's own, field by field; unknown or invalid fields are ignored. Returns `base` itself when
 * nothing changes, so the common request allocates nothing.
 */
export function workloadForTarget(target: string, base: WorkloadParams): WorkloadParams {
  const q = target.indexOf('?');
  if (q < 0) return base;
  let out: WorkloadParams | null = null;
  for (const pair of target.slice(q + 1).split('&')) {
    const [key, raw] = pair.split('=');
    if (!Object.hasOwn(base, key)) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > MAX_QUERY_VALUE) continue;
    out ??= { ...base };
    out[key as keyof WorkloadParams] = n;
  }
  return out ?? base;
}

/** Bounds a query-string workload field: ten seconds of CPU, a thousand calls, 64 MiB; no request may ask for more. */
const MAX_QUERY_VALUE = 64 * 1024 * 1024;

// One body shared by all responses: a model's cost is scheduling, not allocating the same bytes again.
let body = Buffer.alloc(0);
function responseBody(bytes: number): Buffer {
  if (body.length !== bytes) body = Buffer.alloc(bytes, 'x');
  return body;
}

/**
 * The request handler of the node:http event-loop models: the CPU stages burn on the loop, the backend calls go
 * through the async client, awaited one after another.
 */
export function workloadHandler(workload: WorkloadParams, backend: BackendClient): (req: IncomingMessage, res: ServerResponse) => void {
  const runner: StageRunner<ServerResponse> = {
    read: (res) => readBody(res.req),
    cpu: burnHere,
    backend: () => backend.call(BACKEND_REPLY_BYTES),
    response(res, w) {
      const payload = responseBody(w.response_bytes);
      res.statusCode = 200;
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('content-length', payload.length);
      return payload;
    },
    send: (res, payload) => res.end(payload),
    fail: failHttpRequest,
  };
  return (req, res) => new WorkloadRun(runner).start(res, res, workloadForTarget(req.url ?? '/', workload));
}

/**
 * Reading a node:http request's body belongs to parse: the raw-net model's incremental parser reads and parses in
 * one pass, and every model must put this time in the same part.
 */
export function readBody(req: IncomingMessage): StepWait {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return undefined;
  return drain(req);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // the body's bytes are read, their content does not matter
  }
}

/** A node:http request that failed: 502, or a reset when its headers are already out. */
export function failHttpRequest(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = failureText(err);
  res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) });
  res.end(message);
}
