/**
 * Slow clients beside the load: each holds a connection and sends one request at a time, its head trickled in
 * pieces over `trickle_ms` (as a phone on a bad network, or slowloris, would), then waits for the answer and starts
 * over. A model that gives each connection a thread or a process is tied up for the whole trickle; an event loop is
 * not. Their requests carry no send-time header: they are side load, counted apart (`slow` in each interval),
 * never mixed into the latency figures of the measured requests.
 */
import net from 'node:net';
import type { SlowClientsConfig } from '../config.js';
import { PARSE_ERROR, PARSE_MORE, ResponseParser } from './response-parser.js';

/** After a failure a client waits this long before it reconnects, ms: a refusing server is not hammered. */
const RETRY_MS = 100;

export class SlowClients {
  open = 0;
  completed = 0;
  errors = 0;
  private readonly clients: SlowClient[] = [];
  stopped = false;
  readonly pieces: Buffer[];
  readonly gapMs: number;

  constructor(
    readonly host: string,
    readonly port: number,
    path: string,
    config: SlowClientsConfig,
    count: number,
    readonly timeoutMs: number,
  ) {
    const head = Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\nuser-agent: srvlens-slow-client\r\n\r\n`, 'latin1');
    const chunks = Math.max(2, Math.min(config.chunks ?? 10, head.length));
    const size = Math.ceil(head.length / chunks);
    this.pieces = [];
    for (let i = 0; i < head.length; i += size) this.pieces.push(head.subarray(i, i + size));
    // The first piece goes at once, the last one `trickle_ms` later.
    this.gapMs = config.trickle_ms / (this.pieces.length - 1);
    for (let i = 0; i < count; i++) this.clients.push(new SlowClient(this));
  }

  start(): void {
    for (const c of this.clients) c.connect();
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.clients) c.close();
    this.open = 0;
  }

  /** This interval's figures; the counts start again from zero. */
  take(): { open: number; completed: number; errors: number } {
    const out = { open: this.open, completed: this.completed, errors: this.errors };
    this.completed = this.errors = 0;
    return out;
  }
}

class SlowClient {
  private socket: net.Socket | null = null;
  private readonly parser = new ResponseParser();
  private timer: NodeJS.Timeout | null = null;
  private piece = 0;
  private waiting = false;

  constructor(private readonly owner: SlowClients) {}

  connect(): void {
    if (this.owner.stopped) return;
    const s = net.connect({ host: this.owner.host, port: this.owner.port, noDelay: true });
    this.socket = s;
    let connected = false;
    s.on('connect', () => {
      connected = true;
      this.owner.open++;
      this.request();
    });
    s.on('data', (buf: Buffer) => this.onData(buf));
    s.on('error', () => undefined); // 'close' follows and does the accounting
    s.on('close', () => {
      if (connected) this.owner.open--;
      if (this.socket !== s) return;
      this.socket = null;
      this.clearTimer();
      if (this.owner.stopped) return;
      // A connection lost mid-request (the server gave up on the trickle, or refused it) is a failed request.
      const failed = this.waiting || this.piece > 0 || !connected;
      if (failed) this.owner.errors++;
      this.waiting = false;
      this.piece = 0;
      this.timer = setTimeout(() => this.connect(), failed ? RETRY_MS : 0);
    });
  }

  close(): void {
    this.clearTimer();
    const s = this.socket;
    this.socket = null;
    s?.destroy();
  }

  private request(): void {
    this.piece = 0;
    this.waiting = false;
    this.parser.reset(true);
    this.writePiece();
  }

  private writePiece(): void {
    this.timer = null;
    const s = this.socket;
    if (s === null || this.owner.stopped) return;
    const { pieces, gapMs, timeoutMs } = this.owner;
    s.write(pieces[this.piece++]);
    if (this.piece < pieces.length) {
      this.timer = setTimeout(() => this.writePiece(), gapMs);
      return;
    }
    this.waiting = true;
    this.timer = setTimeout(() => this.socket?.destroy(), timeoutMs);
  }

  private onData(buf: Buffer): void {
    if (!this.waiting) return void this.socket?.destroy(); // an answer before the request was whole: the server gave up
    const r = this.parser.execute(buf);
    if (r === PARSE_MORE) return;
    this.clearTimer();
    this.waiting = false;
    this.piece = 0;
    if (r === PARSE_ERROR || r < buf.length) {
      this.owner.errors++;
      return void this.socket?.destroy();
    }
    if (this.parser.status >= 200 && this.parser.status < 300) this.owner.completed++;
    else this.owner.errors++;
    if (this.parser.keepAlive) this.request();
    else this.socket?.destroy();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
