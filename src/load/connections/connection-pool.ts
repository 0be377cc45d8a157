/**
 * The generator's keep-alive connections: which are free, which are busy, which are still connecting, and
 * replacements for the ones that broke. It knows nothing of the schedule; it tells its owner when a response
 * arrived, when a request or a connect failed, and when a connection came or went (time to send what waits).
 */
import { BUSY, CONNECTING, Connection, IDLE, type ConnectionOwner, type ErrorKind } from './connection.js';

export interface PoolEvents {
  /** A whole response arrived on `conn` (whatever its status); the connection is already free again or gone. */
  responded(conn: Connection, tRecvMs: number): void;
  /** A request in flight on `conn` failed, or a connect failed (`conn` null): no connection for a waiting request. */
  failed(kind: ErrorKind, conn: Connection | null): void;
  /** A connect completed (before the connection is offered for a request). */
  connected(conn: Connection): void;
  /** A connection became free, or one went away. */
  changed(): void;
}

export class ConnectionPool implements ConnectionOwner {
  busy = 0;
  connecting = 0;
  private readonly conns = new Set<Connection>();
  /** Free connections, most recently freed on top: the rest stay idle, and a server may close idle ones. */
  private readonly idle: Connection[] = [];

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly max: number,
    private readonly expectBody: boolean,
    private readonly events: PoolEvents,
    /** False for `connection: new`: a connection carries one request and is closed after its response. */
    private readonly reuse = true,
  ) {}

  /** Open or opening connections (what an interval reports as `connections`). */
  get size(): number {
    return this.conns.size;
  }

  /** A free connection, or undefined when all are busy or connecting. */
  take(): Connection | undefined {
    return this.idle.pop();
  }

  send(conn: Connection, head: string, tIntended: number): number {
    this.busy++;
    return conn.send(head, tIntended);
  }

  /**
   * Opens connections for requests that wait without one, at most one per request and `max` in all: against a
   * refusing server that is one refusal per due request (each counted), not a reconnect loop.
   */
  grow(waiting: number): void {
    while (this.conns.size < this.max && this.connecting < waiting) this.open();
  }

  fill(): void {
    while (this.conns.size < this.max) this.open();
  }

  /** Kills what has been connecting or in flight longer than `limitMs`, counted as a timeout. */
  sweep(now: number, limitMs: number): void {
    for (const c of this.conns) {
      const st = c.state;
      if ((st === BUSY && now - c.tSend > limitMs) || (st === CONNECTING && now - c.tStart > limitMs)) {
        c.kill();
        this.lost(c, st, 'timeout');
      }
    }
  }

  /** Closes everything; returns how many requests were still in flight. */
  closeAll(): number {
    let inFlight = 0;
    for (const c of this.conns) {
      if (c.state === BUSY) inFlight++;
      c.kill();
    }
    this.conns.clear();
    this.idle.length = 0;
    this.busy = this.connecting = 0;
    return inFlight;
  }

  private open(): void {
    this.conns.add(new Connection(this.host, this.port, this, this.expectBody));
    this.connecting++;
  }

  connected(conn: Connection): void {
    this.connecting--;
    this.events.connected(conn);
    this.idle.push(conn);
    this.events.changed();
  }

  responded(conn: Connection, tRecvMs: number): void {
    this.busy--;
    if (conn.state === IDLE && this.reuse) this.idle.push(conn);
    else {
      // With one request per connection the request asked the server to close (`connection: close`), so the
      // server usually closes first and keeps the TIME_WAIT; on loopback Linux reuses ours anyway (tcp_tw_reuse=2).
      conn.kill();
      this.conns.delete(conn);
    }
    this.events.responded(conn, tRecvMs);
  }

  lost(conn: Connection, state: number, kind: ErrorKind): void {
    this.conns.delete(conn);
    if (state === CONNECTING) {
      this.connecting--;
      this.events.failed(kind, null);
    } else if (state === BUSY) {
      this.busy--;
      this.events.failed(kind, conn);
    } else {
      const i = this.idle.indexOf(conn);
      if (i !== -1) this.idle.splice(i, 1);
    }
    this.events.changed();
  }
}
