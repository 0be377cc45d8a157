/**
 * What a blocking model's main thread shares with the threads it starts, in one SharedArrayBuffer (fds and this
 * memory are process-wide; nothing else is):
 *
 * - a stop flag and the number of live connection contexts, in one cell, so that an acceptor waiting at its cap
 *   (Atomics.wait) is woken by either change and cannot miss a stop;
 * - how many queued connections an acceptor shed because their clients had already gone (accept-client.ts);
 * - the fds each thread may be asleep on (its client connection, its backend connection), so that a stopper can
 *   wake it with shutdown(2). A thread blocked in a syscall cannot be terminated from JavaScript: Worker.terminate()
 *   and even process.exit() wait for it to return.
 *
 * An fd is only shut down while its slot is locked, and its owner takes it back (retract) before closing it, so the
 * stopper can never shut down a number the kernel has meanwhile given to another socket.
 */

/** Each serving thread has a pair of fd slots: the client connection it serves, and its backend connection. */
export const connSlot = (pair: number): number => 2 * pair;
export const backendSlot = (pair: number): number => 2 * pair + 1;

const STATE = 0;
const STOP_BIT = 1 << 30;
const SHED = 1;
const FIRST_SLOT = 2;
const FREE = -1;
/** A stopper is shutting this slot's fd down; its owner waits before closing it. */
const LOCKED = -2;

export class ContextControl {
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  /** Room for `slots` fds, all free, not stopped, no live contexts. */
  static create(slots: number): ContextControl {
    const control = new ContextControl(new SharedArrayBuffer((FIRST_SLOT + slots) * 4));
    control.cells.fill(FREE, FIRST_SLOT);
    return control;
  }

  get slotCount(): number {
    return this.cells.length - FIRST_SLOT;
  }

  get stopping(): boolean {
    return (Atomics.load(this.cells, STATE) & STOP_BIT) !== 0;
  }

  get live(): number {
    return Atomics.load(this.cells, STATE) & ~STOP_BIT;
  }

  /**
   * Counts one more live context, first sleeping in the kernel while `max` are live (the cap: meanwhile new
   * clients wait in the accept queue). 'stopped' once stopping; 'timeout' after `timeoutMs` at the cap, so that
   * the caller can turn its event loop (its ended threads are reclaimed there) and wait again.
   */
  acquire(max: number, timeoutMs = Infinity): 'acquired' | 'stopped' | 'timeout' {
    for (;;) {
      const v = Atomics.load(this.cells, STATE);
      if ((v & STOP_BIT) !== 0) return 'stopped';
      if (v < max) {
        if (Atomics.compareExchange(this.cells, STATE, v, v + 1) === v) return 'acquired';
        continue;
      }
      if (Atomics.wait(this.cells, STATE, v, timeoutMs) === 'timed-out') return 'timeout';
    }
  }

  /** One live context ended; wakes an acquirer waiting at the cap. */
  release(): void {
    Atomics.sub(this.cells, STATE, 1);
    Atomics.notify(this.cells, STATE);
  }

  /** Connections closed unserved, their clients gone before a context took them. */
  get shed(): number {
    return Atomics.load(this.cells, SHED);
  }

  countShed(): void {
    Atomics.add(this.cells, SHED, 1);
  }

  /** True when `slot` holds no fd (for an acceptor choosing where a new connection's fd goes). */
  isFree(slot: number): boolean {
    return Atomics.load(this.cells, FIRST_SLOT + slot) === FREE;
  }

  /**
   * The caller is about to block on `fd`. False when stopping: the caller must not block, and closes the fd itself.
   * (Store, then check; the stopper sets the flag, then sweeps: one of the two always sees the other.)
   */
  publish(slot: number, fd: number): boolean {
    Atomics.store(this.cells, FIRST_SLOT + slot, fd);
    if (!this.stopping) return true;
    this.retract(slot);
    return false;
  }

  /** The caller takes its fd back before closing it, waiting while a stopper holds it. */
  retract(slot: number): void {
    const i = FIRST_SLOT + slot;
    for (;;) {
      const v = Atomics.load(this.cells, i);
      if (v === LOCKED) {
        Atomics.wait(this.cells, i, LOCKED);
        continue;
      }
      if (Atomics.compareExchange(this.cells, i, v, FREE) === v) return;
    }
  }

  /** Sets the stop flag, wakes acquirers, and shuts down every published fd (errors ignored: the peer may be gone). */
  stop(shutdown: (fd: number) => void): void {
    Atomics.or(this.cells, STATE, STOP_BIT);
    Atomics.notify(this.cells, STATE);
    for (let i = FIRST_SLOT; i < this.cells.length; i++) {
      const fd = Atomics.load(this.cells, i);
      if (fd < 0 || Atomics.compareExchange(this.cells, i, fd, LOCKED) !== fd) continue;
      try {
        shutdown(fd);
      } catch {
        // ENOTCONN: the connection ended on its own
      }
      Atomics.store(this.cells, i, fd);
      Atomics.notify(this.cells, i);
    }
  }
}
