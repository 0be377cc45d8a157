/**
 * Closed-loop users of one generator thread: each sends, waits for its answer, thinks, and sends again, so a closed
 * loop never has more requests out than users (its rate is whatever the server allows, unlike an open loop's).
 */
import type { Random } from '../../vocabulary/random.js';
import type { Plan, Segment, Share } from './plan.js';

/**
 * After a failed request a closed-loop user pauses at least this long, ms: a refusing server would otherwise get a
 * tight loop of connects that each fail at once, which measures nothing and burns the generator's CPU.
 */
export const ERROR_PAUSE_MS = 10;

/**
 * The closed-loop users of this thread: a min-heap of the times they are next due. Users are interchangeable (a
 * user is only its next wake time), so a response wakes "a user", not a particular one.
 */
export class ClosedUsers {
  next = Infinity;
  private heap: number[] = [];
  /** Closed phases still to start (their first segment), and those started. */
  private readonly starts: Segment[];
  private readonly started: Segment[] = [];

  constructor(
    plan: Plan,
    private readonly share: Share,
    private readonly random: Random,
  ) {
    this.starts = plan.segments.filter((s, i) => s.closed && (i === 0 || plan.segments[i - 1].phase_index !== s.phase_index));
    this.update();
  }

  pop(): void {
    this.popMin();
    this.update();
  }

  done(tIntended: number, t: number, failed: boolean): void {
    const s = this.phaseOf(tIntended);
    if (!s?.closed) return;
    let think = s.closed.think === 'exponential' ? s.closed.think_ms * this.random.exp1() : s.closed.think_ms;
    if (failed && think < ERROR_PAUSE_MS) think = ERROR_PAUSE_MS;
    if (t + think < s.phase_end_ms) this.push(t + think);
    this.update();
  }

  private phaseOf(t: number): Segment | undefined {
    // The closed phase whose span holds t: users of a phase that has ended do not come back.
    let found: Segment | undefined;
    for (const s of this.started) if (t >= s.start_ms && t < s.phase_end_ms) found = s;
    return found;
  }

  private update(): void {
    // A closed phase whose start has come is opened here, lazily: its users are pushed when the heap reaches it.
    while (this.starts.length > 0 && (this.heap.length === 0 || this.starts[0].start_ms <= this.heap[0])) {
      this.open(this.starts.shift()!);
    }
    this.next = this.heap.length > 0 ? this.heap[0] : Infinity;
  }

  private open(s: Segment): void {
    const c = s.closed!;
    this.started.push(s);
    const { index, count } = this.share;
    // Thread i runs users i, i + n, ...; their first sends are spread over one think time, as in a steady state.
    for (let g = index; g < c.users; g += count) {
      const offset = c.think === 'exponential' ? c.think_ms * this.random.exp1() : (g * c.think_ms) / c.users;
      const t = s.start_ms + offset;
      if (t < s.phase_end_ms) this.push(t);
    }
  }

  private push(t: number): void {
    const h = this.heap;
    let i = h.push(t) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= t) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = t;
  }

  private popMin(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && h[l + 1] < h[l] ? l + 1 : l;
      if (h[c] >= last) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }
}
