/**
 * The workload every reference model runs (ARCHITECTURE section 5), so that models differ only in how they
 * schedule it: read and parse the request, process, ask the backend, transform, send.
 *
 * Stage marks say "from now on this request is in that stage" to the agent (a no-op without it). The marks are the
 * contract between the models and the time decomposition: every model must mark the same stages at the same points.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STAGE } from '../../vocabulary/parts.js';
import { markStage } from '../../vocabulary/stage-hook.js';
import { DEFAULT_WORKLOAD, type WorkloadParams } from '../../vocabulary/workload-params.js';
import { burnCpu } from './cpu-burn.js';
import { ServerConfigError } from '../errors.js';

/** The CPU stages' burn, from here too: every model imports its workload from this module. */
export { burnCpu };

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
 * Runs the workload for one `node:http` request. `callBackend` is the model's way to the backend (an async client
 * for event loops); it is awaited `backend_calls` times in sequence, as dependent queries would be.
 * Never throws: a failed backend call answers 502, so the generator counts an error instead of a hang.
 */
export async function serveWorkload(
  req: IncomingMessage,
  res: ServerResponse,
  w: WorkloadParams,
  callBackend: (bytes: number) => Promise<void>,
): Promise<void> {
  w = workloadForTarget(req.url ?? '/', w);
  try {
    // Reading the body belongs to parse: the raw-net model's incremental parser reads and parses in one pass, and
    // both models must put this time in the same part.
    markStage(res, STAGE.parse);
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      for await (const _chunk of req) {
        // drain: the body's bytes are read, their content does not matter
      }
    }
    burnCpu(w.parse_us);

    markStage(res, STAGE.process);
    burnCpu(w.process_us);

    if (w.backend_calls > 0) {
      markStage(res, STAGE.downstream);
      for (let i = 0; i < w.backend_calls; i++) await callBackend(BACKEND_REPLY_BYTES);
    }

    markStage(res, STAGE.transform);
    burnCpu(w.transform_us);
    const payload = responseBody(w.response_bytes);
    res.statusCode = 200;
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', payload.length);

    markStage(res, STAGE.send);
    res.end(payload);
  } catch (err) {
    failRequest(res, err);
  }
}

function failRequest(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = `srvlens workload failed: ${err instanceof Error ? err.message : String(err)}\n`;
  res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) });
  res.end(message);
}
