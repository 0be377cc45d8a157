/**
 * Connections opened before the first phase and held open beside the load, sending nothing: the C10K case, where
 * a server must keep thousands of connections while it serves a few busy ones (a thread per connection pays a
 * stack for each, an event loop a few hundred bytes). They are opened a batch at a time so that a burst of
 * thousands of SYNs does not overflow the server's accept queue (a dropped SYN is retried only after 1 s), and never
 * past this process's open-file limit: when they cannot all be opened, `note` says why and how many are.
 */
import net from 'node:net';
import { fdBudget } from './fd-budget.js';

/** Connects in progress at once. The server's listen backlog is 511 in Node; a batch well under it fits. */
const BATCH = 200;
/** Descriptors kept free for everything else the generator opens (its pool, slow clients, IPC, files). */
const FD_RESERVE = 64;

export class IdleConnections {
  open = 0;
  /** Why fewer than asked were opened (fd limit, refusals), or why the server dropped some; null when all is well. */
  note: string | null = null;
  private connecting = 0;
  private toOpen: number;
  private readonly sockets = new Set<net.Socket>();
  private stopped = false;
  private settled = false;
  private failures = 0;

  /**
   * `otherSockets`: connections the rest of this thread will hold, kept out of the budget; `threads`: generator
   * threads sharing the process's descriptors, each taking an equal part. `onSettled` runs once, when every
   * connection is open or no more can be.
   */
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly wanted: number,
    otherSockets: number,
    threads: number,
    private readonly onSettled: () => void,
  ) {
    const budget = fdBudget();
    const room = Math.max(0, Math.floor(budget.free / threads) - otherSockets - FD_RESERVE);
    this.toOpen = Math.min(wanted, room);
    if (this.toOpen < wanted) {
      const part = threads > 1 ? ` (this thread's part: ${Math.floor(budget.free / threads)} of them)` : '';
      this.note = `only ${this.toOpen} of ${wanted} idle connections: the generator may open ${budget.limit} files (ulimit -n)${part} and needs ${otherSockets + FD_RESERVE} for its other sockets; raise the limit (ulimit -n) or ask for fewer`;
    }
  }

  start(): void {
    this.fill();
  }

  /** Closes them all; nothing is reopened after this. */
  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.open = this.connecting = 0;
    this.settle();
  }

  private fill(): void {
    while (!this.stopped && this.toOpen > 0 && this.connecting < BATCH) {
      this.toOpen--;
      this.connecting++;
      this.connect();
    }
    if (this.toOpen === 0 && this.connecting === 0) this.settle();
  }

  private connect(): void {
    const s = net.connect({ host: this.host, port: this.port });
    this.sockets.add(s);
    let connected = false;
    s.on('connect', () => {
      connected = true;
      this.connecting--;
      this.open++;
      this.fill();
    });
    s.on('data', () => {
      // Nothing was asked; a server that talks first (a timeout response) is about to close anyway.
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (connected || this.stopped) return;
      this.failures++;
      if (err.code === 'EMFILE' || err.code === 'ENFILE' || err.code === 'EADDRNOTAVAIL') {
        // Out of descriptors or local ports: more attempts would fail the same way.
        this.note = `only ${this.open} of ${this.wanted} idle connections: ${err.code} (${err.code === 'EADDRNOTAVAIL' ? 'no local port left' : 'open-file limit reached'})`;
        this.toOpen = 0;
      }
    });
    s.on('close', () => {
      this.sockets.delete(s);
      if (this.stopped) return;
      if (connected) {
        this.open--;
        this.note ??= `the server closed idle connections (${this.open} of ${this.wanted} still open)`;
        return;
      }
      this.connecting--;
      if (this.failures > 0 && this.open === 0 && this.toOpen > 0) {
        this.note = `idle connections refused by the server (${this.failures} attempts)`;
        this.toOpen = 0;
      }
      this.fill();
    });
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettled();
  }
}
