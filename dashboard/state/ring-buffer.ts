/**
 * The last `capacity` items of a numbered stream: item n is pushed n-th (0-based) and can be read back by its
 * number while it is among the last `capacity`. Fixed memory whatever the length of the stream.
 */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private pushed = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a whole number >= 1, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  /** Items pushed so far: the next item's number. */
  get count(): number {
    return this.pushed;
  }

  /** Number of the oldest item still held. */
  get first(): number {
    return Math.max(0, this.pushed - this.capacity);
  }

  push(item: T): void {
    this.items[this.pushed % this.capacity] = item;
    this.pushed++;
  }

  /** Item number n, or undefined once it has been overwritten (or before it was pushed). */
  at(n: number): T | undefined {
    return n >= this.first && n < this.pushed ? this.items[n % this.capacity] : undefined;
  }

  /** Items numbered [from, to) that are still held, oldest first. */
  slice(from: number, to: number): T[] {
    const out: T[] = [];
    for (let n = Math.max(from, this.first); n < Math.min(to, this.pushed); n++) out.push(this.items[n % this.capacity] as T);
    return out;
  }
}
