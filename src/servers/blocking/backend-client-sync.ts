/**
 * Blocking client of the backend tier, one persistent connection per thread (or process): a call sends
 * `<id> <bytes>\n` and sleeps in recv(2) until the reply line `<id> <payload>\n` has arrived, as a C thread would
 * wait on its database connection. One call outstanding at a time, so the reply is simply the next line.
 *
 * No reconnection, as in the async client: once the connection fails, this and every later call throws a
 * BackendClosedError (the workload answers 502).
 */
import { BackendClosedError } from '../errors.js';
import type { BackendAddress } from '../backend/backend-client.js';
import { blocking, errnoCode } from '../native.js';

const LF = 0x0a;
/** Replies of any size the backend allows (16 MiB) fit after growth; most fit the first buffer. */
const INITIAL_BUFFER = 4096;

export class SyncBackendClient {
  private readonly where: string;
  private failure: BackendClosedError | null = null;
  private nextId = 0;
  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER);

  private constructor(
    readonly fd: number,
    address: BackendAddress,
  ) {
    this.where = `${address.host}:${address.port}`;
  }

  /** Connects, blocking; throws a BackendClosedError naming the address when the backend is not there. */
  static connect(address: BackendAddress): SyncBackendClient {
    try {
      return new SyncBackendClient(blocking().connect(address.host, address.port), address);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new BackendClosedError(`cannot connect to backend ${address.host}:${address.port}: ${reason}`, { cause: err });
    }
  }

  /** As connect, but never throws: when the backend is not there, every call throws that error (and answers 502). */
  static open(address: BackendAddress): SyncBackendClient {
    try {
      return SyncBackendClient.connect(address);
    } catch (err) {
      const client = new SyncBackendClient(-1, address);
      client.failure = err as BackendClosedError;
      return client;
    }
  }

  /** Returns when the whole reply has arrived; the calling thread sleeps in the kernel meanwhile. */
  call(responseBytes: number): void {
    if (this.failure !== null) throw this.failure;
    const id = String(this.nextId++);
    const api = blocking();
    let length = 0;
    try {
      api.sendAll(this.fd, Buffer.from(`${id} ${responseBytes}\n`, 'latin1'));
      for (;;) {
        if (length === this.buffer.length) this.grow();
        const n = api.recv(this.fd, this.buffer, length, this.buffer.length - length);
        if (n === 0) return this.fail(`backend ${this.where} closed the connection`);
        // Only the bytes just read: past them the buffer holds earlier replies.
        const nl = this.buffer.subarray(0, length + n).indexOf(LF, length);
        length += n;
        if (nl >= 0) {
          // Anything after the line would be a reply we did not ask for: the stream can no longer be trusted.
          if (nl !== length - 1 || this.buffer.toString('latin1', 0, id.length + 1) !== `${id} `) {
            const line = this.buffer.toString('latin1', 0, Math.min(nl, 120));
            return this.fail(`backend ${this.where} sent an unexpected line: ${JSON.stringify(line)}`);
          }
          return;
        }
      }
    } catch (err) {
      if (err instanceof BackendClosedError) throw err;
      return this.fail(`connection to backend ${this.where} failed: ${err instanceof Error ? err.message : err}`, err);
    }
  }

  close(): void {
    if (this.failure === null) this.failure = new BackendClosedError(`backend client for ${this.where} was closed`);
    if (this.fd < 0) return;
    try {
      blocking().close(this.fd);
    } catch (err) {
      if (errnoCode(err) !== 'EBADF') throw err;
    }
  }

  private grow(): void {
    const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
    this.buffer.copy(bigger);
    this.buffer = bigger;
  }

  private fail(message: string, cause?: unknown): never {
    this.failure ??= new BackendClosedError(message, cause === undefined ? undefined : { cause });
    throw this.failure;
  }
}
