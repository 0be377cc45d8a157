/**
 * Serves one accepted connection to its end on the calling thread, blocking, as the lecture's thread-based model
 * reads: read the request, process, ask the database, transform, send, each call sleeping in the kernel until it
 * can go on. The workload and its stage marks are those of ../workload.ts, run synchronously.
 */
import { STAGE } from '../../vocabulary/parts.js';
import { beginRequest, endRequest, markStage } from '../../vocabulary/stage-hook.js';
import { type ParsedRequest, RequestParser } from '../http/request-parser.js';
import { errorResponse, formatResponse } from '../http/response.js';
import type { WorkloadParams } from '../../vocabulary/workload-params.js';
import { BACKEND_REPLY_BYTES, burnCpu, workloadForTarget } from '../workload/workload.js';
import type { SyncBackendClient } from './backend-client-sync.js';
import { blocking } from '../native.js';

/** What one thread (or process) keeps across the connections it serves. */
export interface ServingContext {
  workload: WorkloadParams;
  backend: SyncBackendClient;
  /** Response headers naming who served (x-srvlens-pid, x-srvlens-tid). */
  identity: [string, string][];
  /** The response body, made once: a model's cost is scheduling, not allocating the same bytes again. */
  body: Buffer;
  readBuffer: Buffer;
}

/** The agent keys a request's state on this; one per connection, one request at a time on it. */
interface ConnectionHandle {
  fd: number;
}

const READ_BUFFER_BYTES = 64 * 1024;

/** Made once per thread, on that thread (gettid names the caller). */
export function servingContext(workload: WorkloadParams, backend: SyncBackendClient): ServingContext {
  return {
    workload,
    backend,
    identity: [
      ['x-srvlens-pid', String(process.pid)],
      ['x-srvlens-tid', String(blocking().gettid())],
    ],
    body: Buffer.alloc(workload.response_bytes, 'x'),
    readBuffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
  };
}

/**
 * Returns when the client closes, asks to close, sends what the parser refuses (answered with its status), or the
 * connection fails (reset, or shut down by a stopping server). The caller closes the fd. `acceptMs`: monoMs() when
 * the connection was accepted, for the accept-queue part.
 */
export function serveConnection(fd: number, acceptMs: number, ctx: ServingContext): void {
  const api = blocking();
  const handle: ConnectionHandle = { fd };
  const parser = new RequestParser();
  const buffer = ctx.readBuffer;
  for (;;) {
    let n: number;
    try {
      n = api.recv(fd, buffer, 0, buffer.length);
    } catch {
      return; // reset by the client: nothing to answer
    }
    if (n === 0) return;
    // The parser copies what it keeps, so the read buffer is free again after push.
    for (const req of parser.push(buffer.subarray(0, n))) {
      if (!serveRequest(handle, req, acceptMs, ctx)) return;
    }
    const error = parser.error;
    if (error !== null) {
      trySend(fd, errorResponse(error));
      return;
    }
  }
}

/** Runs the workload for one request and sends its response; false when the connection is to end. */
function serveRequest(handle: ConnectionHandle, req: ParsedRequest, acceptMs: number, ctx: ServingContext): boolean {
  const w = workloadForTarget(req.target, ctx.workload);
  beginRequest(handle, req.sendTimeUs, acceptMs);
  let keepAlive = req.keepAlive;
  let response: Buffer;
  try {
    // The body was read and parsed before the request was known complete, as the raw event loop's parser does.
    markStage(handle, STAGE.parse);
    burnCpu(w.parse_us);

    markStage(handle, STAGE.process);
    burnCpu(w.process_us);

    if (w.backend_calls > 0) {
      markStage(handle, STAGE.downstream);
      for (let i = 0; i < w.backend_calls; i++) ctx.backend.call(BACKEND_REPLY_BYTES);
    }

    markStage(handle, STAGE.transform);
    burnCpu(w.transform_us);
    const body = w.response_bytes === ctx.body.length ? ctx.body : Buffer.alloc(w.response_bytes, 'x');
    response = formatResponse(200, body, keepAlive, 'application/octet-stream', ctx.identity);
  } catch (err) {
    // As ../workload.ts does: a failed backend call answers 502, so the generator counts an error, not a hang.
    const message = `srvlens workload failed: ${err instanceof Error ? err.message : String(err)}\n`;
    keepAlive = false;
    response = formatResponse(502, Buffer.from(message), false, 'text/plain', ctx.identity);
  }
  markStage(handle, STAGE.send);
  const sent = trySend(handle.fd, response);
  // Ended even when the send failed: the agent holds a slot for every begun request until its end.
  endRequest(handle);
  return sent && keepAlive;
}

function trySend(fd: number, bytes: Buffer): boolean {
  try {
    blocking().sendAll(fd, bytes);
    return true;
  } catch {
    return false; // EPIPE, ECONNRESET: the client is gone
  }
}
