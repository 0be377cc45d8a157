/**
 * The event-loop-raw model: one thread on raw `net`, with our own incremental parser, written in the lecture's
 * stack-ripped style. Everything a request needs between two events lives in its connection's state object, and
 * each event (bytes arrived, backend replied, response written) advances that state and returns to the loop. There
 * is no async/await on the request path: the continuation of a request is the state, not a suspended stack frame.
 * The workload's own steps are the stage sequence's (../workload/stage-sequence.ts), itself stack-ripped: the
 * connection keeps one WorkloadRun and starts it for each of its requests in turn.
 *
 * Requests pipelined on one connection are served one after another, in order: the next begins when the previous
 * response's last byte is with the kernel, so the agent sees one request at a time per connection (its handle).
 */
import { once } from 'node:events';
import net from 'node:net';
import { monoMs } from '../../vocabulary/clock.js';
import { beginRequest, endRequest } from '../../vocabulary/stage-hook.js';
import { type BackendClient, connectBackend } from '../backend/backend-client.js';
import type { ParsedRequest, ParseError } from '../http/parsed-request.js';
import { RequestParser } from '../http/request-parser.js';
import { errorResponse, formatResponse } from '../http/response.js';
import type { ModelServerOptions, RunningServer } from './model-server.js';
import type { WorkloadParams } from '../../vocabulary/workload-params.js';
import { burnHere, failureText, type StageRunner, WorkloadRun } from '../workload/stage-sequence.js';
import { BACKEND_REPLY_BYTES, resolveWorkload, workloadForTarget } from '../workload/workload.js';

/** Where a connection's current request is; the `switch` of the lecture's handle_event. */
const enum Step {
  /** No request in progress: waiting for bytes, or for the next pipelined request's turn. */
  Idle,
  /** In the workload's stage sequence (waiting for the backend, when it waits). */
  Working,
  /** The response is written; waiting for the kernel to take its last byte. */
  Sending,
  /** The connection is over (closed by either side, or ended after an error or Connection: close). */
  Done,
}

/**
 * Parsed requests a connection may hold before we stop reading from it: a client that pipelines without reading
 * responses fills its kernel buffers instead of our memory.
 */
const MAX_QUEUED = 16;
/** After an error response, how long a client has to read it and close before we reset the connection. */
const LINGER_MS = 2000;

interface Conn {
  model: Model;
  socket: net.Socket;
  parser: RequestParser;
  /** monoMs() when the connection was accepted: the agent's accept_queue end for the first request. */
  acceptMs: number;
  /** Requests parsed and waiting their turn (pipelining). */
  queue: ParsedRequest[];
  /** The request in progress, or null when Idle. */
  req: ParsedRequest | null;
  step: Step;
  /** Where the request in progress is in the stage sequence. */
  run: WorkloadRun<Conn>;
  /** The parser's error, answered once every request before it has been served. */
  parseError: ParseError | null;
  /** The client half-closed (sent FIN): answer what it sent, then close our side. */
  peerEnded: boolean;
}

/** What every connection's handlers share; passed explicitly rather than captured, so the handlers are plain functions. */
interface Model {
  workload: WorkloadParams;
  backend: BackendClient;
  body: Buffer;
  conns: Set<Conn>;
}

export async function startEventLoopRawServer(opts: ModelServerOptions): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 0 } = opts;
  const workload = resolveWorkload(opts.workload);
  const backend = await connectBackend(opts.backend);
  // One body for all responses, as workload.ts does: a model's cost is scheduling, not filling the same bytes.
  const model: Model = { workload, backend, body: Buffer.alloc(workload.response_bytes, 'x'), conns: new Set() };

  // allowHalfOpen: a client may send its requests and shut its side (`nc -N`); it still gets every answer.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => onConnection(model, socket));
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    await backend.close();
    throw err;
  }

  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const conn of model.conns) conn.socket.destroy();
      await closed;
      await backend.close();
    },
  };
}

function onConnection(model: Model, socket: net.Socket): void {
  const conn: Conn = {
    model,
    socket,
    parser: new RequestParser(),
    acceptMs: monoMs(),
    queue: [],
    req: null,
    step: Step.Idle,
    parseError: null,
    peerEnded: false,
    run: new WorkloadRun(RAW),
  };
  model.conns.add(conn);
  socket.on('data', (chunk: Buffer) => onData(model, conn, chunk));
  // A reset by the client is its business; the 'close' that follows ends the connection's state.
  socket.on('error', () => undefined);
  socket.on('end', () => {
    conn.peerEnded = true;
    if (conn.step === Step.Idle && conn.queue.length === 0) startNext(model, conn);
  });
  socket.on('close', () => {
    conn.step = Step.Done;
    conn.queue.length = 0;
    model.conns.delete(conn);
  });
}

/** Event: bytes arrived. Parses what it can and, if the connection is idle, starts the next request. */
function onData(model: Model, conn: Conn, chunk: Buffer): void {
  if (conn.step === Step.Done) return;
  const parsed = conn.parser.push(chunk);
  for (const req of parsed) conn.queue.push(req);
  if (conn.parser.error !== null && conn.parseError === null) {
    conn.parseError = conn.parser.error;
    // Nothing more will be parsed: let further bytes wait in the kernel instead of waking us.
    conn.socket.pause();
  }
  if (conn.queue.length >= MAX_QUEUED) conn.socket.pause();
  if (conn.step === Step.Idle) startNext(model, conn);
}

/** Starts the next queued request on an idle connection: the stages up to the backend call run right here. */
function startNext(model: Model, conn: Conn): void {
  const req = conn.queue.shift();
  if (req === undefined) {
    if (conn.parseError !== null) sendError(conn, conn.parseError);
    else if (conn.peerEnded) finish(conn);
    else if (conn.socket.isPaused()) conn.socket.resume();
    return;
  }
  conn.req = req;
  conn.step = Step.Working;
  beginRequest(conn, req.sendTimeUs, conn.acceptMs);
  conn.run.start(conn, conn, workloadForTarget(req.target, model.workload));
}

/** The stage sequence on the loop: CPU stages burn right here, each backend call is an event to wait for. */
const RAW: StageRunner<Conn> = {
  // No read: the parser has already read the body as it arrived; the parse stage is the workload's own parsing.
  cpu: burnHere,
  backend: (conn) => conn.model.backend.call(BACKEND_REPLY_BYTES),
  response(conn, w) {
    const { body } = conn.model;
    return formatResponse(200, w.response_bytes === body.length ? body : Buffer.alloc(w.response_bytes, 'x'), conn.req?.keepAlive ?? false);
  },
  send: (conn, bytes) => write(conn.model, conn, bytes),
  fail(conn, err) {
    const text = Buffer.from(failureText(err), 'latin1');
    write(conn.model, conn, formatResponse(502, text, conn.req?.keepAlive ?? false, 'text/plain'));
  },
  // The client went away while we waited.
  abandoned: (conn) => conn.step !== Step.Working,
};

/** One write for the whole response; its callback is the event "the last byte is with the kernel". */
function write(model: Model, conn: Conn, bytes: Buffer): void {
  conn.step = Step.Sending;
  conn.socket.write(bytes, (err) => onWritten(model, conn, err));
}

/** Event: the response's last byte was handed to the kernel. Ends the request; starts the next or closes. */
function onWritten(model: Model, conn: Conn, err: Error | null | undefined): void {
  if (err) return; // the socket failed: 'close' follows and ends the connection
  endRequest(conn);
  const keepAlive = conn.req?.keepAlive ?? false;
  conn.req = null;
  if (conn.step === Step.Done) return;
  if (!keepAlive) {
    finish(conn);
    return;
  }
  conn.step = Step.Idle;
  startNext(model, conn);
}

function sendError(conn: Conn, err: ParseError): void {
  finish(conn, errorResponse(err));
}

/**
 * Ends our side of the connection (after `last`, if given) and gives the client a moment to read and close its own
 * side before a reset: a half-open socket would otherwise stay for as long as the client keeps it.
 */
function finish(conn: Conn, last?: Buffer): void {
  conn.step = Step.Done;
  if (last === undefined) conn.socket.end();
  else conn.socket.end(last);
  // Reading again lets the client's FIN (or the rest of a refused request) arrive, so the socket can close
  // cleanly; whatever comes is dropped by onData (Step.Done).
  conn.socket.resume();
  conn.socket.setTimeout(LINGER_MS, () => conn.socket.destroy());
}
