/**
 * Async client of the backend tier for the event-loop models: a few persistent connections, many calls outstanding
 * on each, matched to replies by id. No reconnection: a run with a lost backend is a failed run, and every pending
 * or later call rejects with a BackendClosedError instead of hanging.
 */
import { once } from 'node:events';
import net from 'node:net';
import { BackendClosedError } from '../errors.js';
import { lineSplitter } from './lines.js';

export interface BackendAddress {
  host: string;
  port: number;
}

export interface BackendClientOptions extends BackendAddress {
  /** Persistent connections, calls spread round-robin; one is enough for pipelining, a few spread the parsing. */
  connections?: number;
}

export interface BackendClient {
  /** Resolves when the backend's reply to this call has fully arrived. */
  call(responseBytes: number): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

class Connection {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: BackendClosedError | null = null;

  constructor(
    readonly socket: net.Socket,
    private readonly where: string,
  ) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    const feed = lineSplitter((line) => this.onReply(line));
    socket.on('data', (chunk: string) => feed(chunk));
    socket.on('error', (err) => this.fail(`connection to backend ${where} failed: ${err.message}`, err));
    socket.on('close', () => this.fail(`backend ${where} closed the connection`));
  }

  call(responseBytes: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${id} ${responseBytes}\n`);
    });
  }

  private onReply(line: string): void {
    const space = line.indexOf(' ');
    const id = space > 0 ? Number(line.slice(0, space)) : NaN;
    const waiter = this.pending.get(id);
    if (waiter === undefined) {
      // An ERR line, or a reply we never asked for: the stream can no longer be trusted.
      this.fail(`backend ${this.where} sent an unexpected line: ${JSON.stringify(line.slice(0, 120))}`);
      this.socket.destroy();
      return;
    }
    this.pending.delete(id);
    waiter.resolve();
  }

  fail(message: string, cause?: Error): void {
    if (this.failure !== null) return;
    const pendingNote = this.pending.size > 0 ? ` with ${this.pending.size} call(s) pending` : '';
    this.failure = new BackendClosedError(message + pendingNote, cause ? { cause } : undefined);
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}

/** Opens the connections; rejects with a BackendClosedError naming the address when the backend is not there. */
export async function connectBackend(opts: BackendClientOptions): Promise<BackendClient> {
  const { host, port, connections = 2 } = opts;
  const address = `${host}:${port}`;
  const sockets = Array.from({ length: Math.max(1, connections) }, () => net.connect({ host, port }));
  try {
    await Promise.all(sockets.map((s) => once(s, 'connect')));
  } catch (err) {
    for (const s of sockets) s.destroy();
    const reason = err instanceof Error ? err.message : String(err);
    throw new BackendClosedError(`cannot connect to backend ${address}: ${reason}`, { cause: err });
  }
  const conns = sockets.map((s) => new Connection(s, address));
  let next = 0;
  return {
    call(responseBytes) {
      const conn = conns[next];
      next = next + 1 === conns.length ? 0 : next + 1;
      return conn.call(responseBytes);
    },
    async close() {
      for (const conn of conns) conn.fail(`backend client for ${address} was closed`);
      // destroy, not end: pending calls are already rejected, and a stuck backend must not hold up shutdown.
      await Promise.all(
        conns.map((c) => {
          if (c.socket.closed) return undefined;
          const closed = once(c.socket, 'close');
          c.socket.destroy();
          return closed;
        }),
      );
    },
  };
}
