/**
 * Serves one accepted connection to its end on the calling thread, blocking, as the lecture's thread-based model
 * reads: read the request, process, ask the database, transform, send, each call sleeping in the kernel until it
 * can go on. The stage sequence is the one of ../workload/stage-sequence.ts, every step run to its end here.
 */
import { STAGE } from '../../vocabulary/parts.js';
import { beginRequest, endRequest, markStage } from '../../vocabulary/stage-hook.js';
import type { ParsedRequest } from '../http/parsed-request.js';
import { RequestParser } from '../http/request-parser.js';
import { errorResponse, formatResponse } from '../http/response.js';
import type { WorkloadParams } from '../../vocabulary/workload-params.js';
import { burnHere, failureText, type StageRunner, WorkloadRun } from '../workload/stage-sequence.js';
import { BACKEND_REPLY_BYTES, workloadForTarget } from '../workload/workload.js';
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

/**
 * A connection being served, one request at a time: the agent keys each request's state on it, and the stage
 * sequence keeps what the request's response needs.
 */
interface Connection {
  fd: number;
  /** monoMs() when the connection was accepted, for the accept-queue part. */
  acceptMs: number;
  ctx: ServingContext;
  /** The request's own Connection: keep-alive, until a failure answers with close. */
  keepAlive: boolean;
  /** Whether the response reached the kernel (false: the client is gone). */
  sent: boolean;
}

/** The stage sequence on a blocking thread: every step runs to its end on the calling thread, sleeping in the kernel. */
const BLOCKING: StageRunner<Connection> = {
  // No read: the body was read and parsed before the request was known complete, as the raw event loop's parser does.
  cpu: burnHere,
  backend(conn) {
    conn.ctx.backend.call(BACKEND_REPLY_BYTES);
    return undefined;
  },
  response(conn, w) {
    const { ctx } = conn;
    const body = w.response_bytes === ctx.body.length ? ctx.body : Buffer.alloc(w.response_bytes, 'x');
    return formatResponse(200, body, conn.keepAlive, 'application/octet-stream', ctx.identity);
  },
  send: sendResponse,
  fail(conn, err) {
    conn.keepAlive = false;
    const response = formatResponse(502, Buffer.from(failureText(err)), false, 'text/plain', conn.ctx.identity);
    // Unlike the event loops, this model's 502 is marked as sent: its write blocks like any other response's.
    markStage(conn, STAGE.send);
    sendResponse(conn, response);
  },
};

function sendResponse(conn: Connection, response: Buffer): void {
  conn.sent = trySend(conn.fd, response);
  // Ended even when the send failed: the agent holds a slot for every begun request until its end.
  endRequest(conn);
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
  const conn: Connection = { fd, acceptMs, ctx, keepAlive: false, sent: false };
  const run = new WorkloadRun(BLOCKING);
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
      if (!serveRequest(conn, run, req)) return;
    }
    const error = parser.error;
    if (error !== null) {
      trySend(fd, errorResponse(error));
      return;
    }
  }
}

/** Runs the workload for one request and sends its response; false when the connection is to end. */
function serveRequest(conn: Connection, run: WorkloadRun<Connection>, req: ParsedRequest): boolean {
  const w = workloadForTarget(req.target, conn.ctx.workload);
  beginRequest(conn, req.sendTimeUs, conn.acceptMs);
  conn.keepAlive = req.keepAlive;
  conn.sent = false;
  // No step returns a promise here: the whole sequence runs before start returns.
  run.start(conn, conn, w);
  return conn.sent && conn.keepAlive;
}

function trySend(fd: number, bytes: Buffer): boolean {
  try {
    blocking().sendAll(fd, bytes);
    return true;
  } catch {
    return false; // EPIPE, ECONNRESET: the client is gone
  }
}
