/**
 * One keep-alive HTTP/1.1 connection over a raw socket, for one socket's lifetime: when it breaks, the pool makes
 * a new Connection rather than reconnecting this one, so late events of a dead socket can never be mistaken for
 * the new one's. At most one request is in flight (no pipelining), so the request's times live on the connection
 * and the hot path allocates nothing per request beyond the request string.
 */
import net from 'node:net';
import { monoMs, monoUs } from '../../vocabulary/clock.js';
import { PARSE_ERROR, PARSE_MORE, ResponseParser } from './response-parser.js';

export const CONNECTING = 0;
export const IDLE = 1;
export const BUSY = 2;
export const DEAD = 3;

/**
 * Every connection of a thread reads into this one buffer (net's `onread`): a response is parsed as soon as it is
 * read and nothing of it is kept (a split line is copied out as a string), so no Buffer is allocated per read and
 * the readable stream's push/emit is skipped. 64 KiB: libuv's own read size.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Why a request (or a connect) failed; stable names, counted per kind in the summary. */
export type ErrorKind = 'refused' | 'reset' | 'closed' | 'timeout' | 'status' | 'protocol' | 'unsent';

/** What the pool hears from its connections. Called once per event, never for a connection the pool killed. */
export interface ConnectionOwner {
  connected(conn: Connection): void;
  /** A whole response was parsed at `tRecvMs`; `conn.parser` holds its status and keep-alive. */
  responded(conn: Connection, tRecvMs: number): void;
  /** The socket is gone. `state` is what it was doing: CONNECTING, IDLE or BUSY (a request failed). */
  lost(conn: Connection, state: number, kind: ErrorKind): void;
}

export class Connection {
  state = CONNECTING;
  readonly parser = new ResponseParser();
  /** When the socket started connecting, or the current request's times, ms on the shared clock. */
  tStart: number;
  tIntended = 0;
  tSend = 0;
  /** Since when this connection has been free: a send later than this was the generator's own lateness. */
  idleSince = 0;
  /** When the connect completed, ms: tConnected - tStart is the connect time. */
  tConnected = 0;
  /** The current request's mix entry, and whether a closed-loop user sent it (its latency runs from tSend). */
  mix = 0;
  closedLoop = false;
  private readonly socket: net.Socket;
  private errorKind: ErrorKind | null = null;

  constructor(
    host: string,
    port: number,
    private readonly owner: ConnectionOwner,
    private readonly expectBody: boolean,
  ) {
    this.tStart = monoMs();
    const s = net.connect({ host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: this.onRead } });
    this.socket = s;
    // One set of bound listeners per socket, not per request.
    s.on('connect', this.onConnect);
    s.on('error', this.onError);
    s.on('close', this.onClose);
  }

  /** Writes a request built by RequestBytes.next(); the send time is read immediately before the write. */
  send(head: string, tIntended: number): number {
    this.state = BUSY;
    this.tIntended = tIntended;
    this.parser.reset(this.expectBody);
    const us = monoUs();
    this.socket.write(head + Math.round(us) + '\r\n\r\n', 'latin1');
    return (this.tSend = us / 1000);
  }

  /** Ends the socket without telling the owner (the owner already accounted for whatever it was doing). */
  kill(): void {
    if (this.state === DEAD) return;
    this.state = DEAD;
    this.socket.destroy();
  }

  private readonly onConnect = (): void => {
    if (this.state !== CONNECTING) return;
    this.state = IDLE;
    this.idleSince = this.tConnected = monoMs();
    this.owner.connected(this);
  };

  /** `n` bytes read into READ_BUFFER, valid only during this call; true: keep reading. */
  private readonly onRead = (n: number): boolean => {
    if (this.state !== BUSY) {
      // Bytes nobody asked for: the framing is lost, so is the connection.
      if (this.state === IDLE) this.fail('protocol');
      return true;
    }
    const r = this.parser.execute(READ_BUFFER, n);
    if (r === PARSE_MORE) return true;
    if (r === PARSE_ERROR) {
      this.fail('protocol');
      return true;
    }
    const t = monoMs();
    this.state = IDLE;
    this.idleSince = t;
    if (r < n || !this.parser.keepAlive) {
      // Surplus bytes would be read as the next response; a closing server is taking the socket away anyway.
      this.state = DEAD;
      this.socket.destroy();
    }
    this.owner.responded(this, t);
    return true;
  };

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    this.errorKind = err.code === 'ECONNREFUSED' ? 'refused' : 'reset';
  };

  private readonly onClose = (): void => {
    const state = this.state;
    if (state === DEAD) return;
    if (state === BUSY && this.parser.endsOnClose && this.errorKind === null) {
      // A body without length or chunking ends with the connection: the response is complete now.
      this.state = DEAD;
      this.owner.responded(this, monoMs());
      return;
    }
    this.state = DEAD;
    this.owner.lost(this, state, this.errorKind ?? (state === CONNECTING ? 'refused' : 'closed'));
  };

  private fail(kind: ErrorKind): void {
    const state = this.state;
    this.kill();
    this.owner.lost(this, state, kind);
  }
}
