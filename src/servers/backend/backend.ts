/**
 * The backend tier: a TCP server standing in for a database, with a latency distribution and a concurrency limit
 * so that it, too, can saturate. Service is a timer, not CPU: the backend is I/O-like, and must not compete with
 * the server under test for the host's cores.
 *
 * Protocol, newline-delimited text over persistent connections, pipelined (many calls outstanding per connection,
 * answered in completion order, so out of order when latencies differ):
 *   request  `<id> <response_bytes>\n`     (id: any token without spaces, echoed back)
 *   reply    `<id> <response_bytes 'x' characters>\n`
 *   error    `ERR <reason>\n`, then the backend closes the connection.
 */
import { once } from 'node:events';
import net from 'node:net';
import { monoMs } from '../../vocabulary/clock.js';
import type { BackendInterval } from '../../vocabulary/frames.js';
import { BackendMeter } from './backend-meter.js';
import { ServerConfigError } from '../errors.js';
import { type LatencySpec, makeSampler } from './latency.js';
import { lineSplitter } from './lines.js';

export interface BackendOptions {
  host?: string;
  port?: number;
  latency: LatencySpec;
  /** Calls in service at once; the rest wait in a FIFO queue. */
  limit: number;
  intervalMs?: number;
  seed?: number;
  /** Called once per interval after the shared clock passes its end. Errors thrown here are reported, not raised. */
  onInterval?: (index: number, data: BackendInterval) => void;
}

export interface RunningBackend {
  port: number;
  close(): Promise<void>;
}

interface Call {
  socket: net.Socket;
  id: string;
  bytes: number;
  arrivedMs: number;
  startedMs: number;
  serviceMs: number;
}

/** Request lines are short; anything longer without a newline is a peer speaking another protocol. */
const MAX_REQUEST_LINE = 1024;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Fire just after a boundary, so the clock has surely passed it when the timer runs. */
const BOUNDARY_SLACK_MS = 1;

export async function startBackend(opts: BackendOptions): Promise<RunningBackend> {
  const { host = '127.0.0.1', port = 0, limit, intervalMs = 1000 } = opts;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ServerConfigError(`backend limit must be an integer >= 1, got ${limit}`);
  }
  if (!(intervalMs > 0)) throw new ServerConfigError(`backend intervalMs must be > 0, got ${intervalMs}`);
  const sample = makeSampler(opts.latency, opts.seed);
  const onInterval = opts.onInterval;

  const meter = new BackendMeter(intervalMs, limit, monoMs(), (index, data) => {
    if (onInterval === undefined) return;
    try {
      onInterval(index, data);
    } catch (err) {
      process.emitWarning(`backend onInterval callback threw: ${String(err)}`);
    }
  });

  // FIFO as an array with a moving head: shift() is O(n) on long queues.
  let queue: Call[] = [];
  let head = 0;
  let inService = 0;
  let closed = false;
  const sockets = new Set<net.Socket>();

  let payloadBytes = -1;
  let payload = '';
  const reply = (call: Call): void => {
    if (call.socket.destroyed || call.socket.writableEnded) return;
    // Workloads use one size, so one cached payload saves a repeat() per call.
    if (call.bytes !== payloadBytes) {
      payloadBytes = call.bytes;
      payload = 'x'.repeat(call.bytes);
    }
    call.socket.write(`${call.id} ${payload}\n`);
  };

  const startService = (call: Call, now: number): void => {
    inService++;
    meter.inServiceCount(now, inService);
    call.startedMs = now;
    call.serviceMs = sample();
    // Unref'd: a pending service must not keep a closed backend's process alive; `closed` stops the callback.
    setTimeout(finishService, call.serviceMs, call).unref();
  };

  const finishService = (call: Call): void => {
    if (closed) return;
    const now = monoMs();
    inService--;
    meter.inServiceCount(now, inService);
    meter.completedCall(now, call.serviceMs, call.startedMs - call.arrivedMs, Math.max(0, now - call.startedMs - call.serviceMs));
    reply(call);
    let dequeued = false;
    while (head < queue.length && inService < limit) {
      const next = queue[head++];
      dequeued = true;
      // Calls of a connection that went away are dropped here rather than searched for when it closes.
      if (!next.socket.destroyed) startService(next, now);
    }
    if (!dequeued) return;
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    meter.queueLength(now, queue.length - head);
  };

  const onRequestLine = (socket: net.Socket, line: string): void => {
    if (socket.writableEnded || line === '') return;
    const space = line.indexOf(' ');
    const bytes = space > 0 ? Number(line.slice(space + 1)) : NaN;
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_RESPONSE_BYTES) {
      socket.end(`ERR expected '<id> <response_bytes>' with 0 <= response_bytes <= ${MAX_RESPONSE_BYTES}\n`);
      return;
    }
    const now = monoMs();
    const call: Call = { socket, id: line.slice(0, space), bytes, arrivedMs: now, startedMs: 0, serviceMs: 0 };
    meter.arrived(now);
    if (inService < limit) {
      startService(call, now);
    } else {
      queue.push(call);
      meter.queueLength(now, queue.length - head);
    }
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    // Replies are small and pipelined: Nagle plus delayed ACKs would add ~40 ms stalls.
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    const feed = lineSplitter((line) => onRequestLine(socket, line), MAX_REQUEST_LINE);
    socket.on('data', (chunk: string) => {
      if (socket.writableEnded) return;
      if (!feed(chunk)) socket.end(`ERR request line longer than ${MAX_REQUEST_LINE} characters\n`);
    });
    // Resets by clients at the end of a run are normal; the socket is closed either way.
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });

  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as net.AddressInfo;

  let timer: NodeJS.Timeout;
  const tick = (): void => {
    const now = monoMs();
    meter.advance(now);
    timer = setTimeout(tick, meter.msToBoundary(now) + BOUNDARY_SLACK_MS).unref();
  };
  tick();

  return {
    port: address.port,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      const done = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await done;
    },
  };
}
