/**
 * FIFO of intended send times (ms) for requests that are due but have no free connection yet. A growable ring of
 * doubles: an array's shift() is O(n), and a backlog can hold a whole stall's worth of requests.
 */
export class Backlog {
  private buf = new Float64Array(1024);
  private head = 0;
  length = 0;

  push(t: number): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[(this.head + this.length) & (this.buf.length - 1)] = t;
    this.length++;
  }

  /** Oldest intended time; only call when length > 0. */
  shift(): number {
    const t = this.buf[this.head];
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.length--;
    return t;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    // Capacity stays a power of two so the index wraps with a mask.
    const next = new Float64Array(this.buf.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}
