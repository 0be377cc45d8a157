/**
 * The dashboard's one render loop and its only timer. A pass gathers a snapshot and draws it; requests that come
 * while a pass runs are folded into the next one; a pass says when it wants the next (playback) or not (paused,
 * live: the next frame asks). Idle, it holds no timer at all; stopped, it never runs again.
 */
export class RenderLoop {
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private busy = false;
  /** Earliest time a request made during a pass wants the next one. */
  private wantedAt = Infinity;
  private stopped = false;

  /** `pass` returns the delay in ms before it wants to run again, or null. Its errors go to `onError`. */
  constructor(
    private readonly pass: () => Promise<number | null>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs a pass within `delayMs` (sooner if one was already due sooner). */
  request(delayMs = 0): void {
    if (this.stopped) return;
    const at = Date.now() + Math.max(0, delayMs);
    if (this.busy) {
      this.wantedAt = Math.min(this.wantedAt, at);
      return;
    }
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.run(), at - Date.now());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** True while a timer is armed: for tests that check nothing is left behind. */
  get armed(): boolean {
    return this.timer !== null;
  }

  private async run(): Promise<void> {
    this.timer = null;
    this.timerAt = Infinity;
    this.busy = true;
    let next: number | null;
    try {
      next = await this.pass();
    } catch (err) {
      this.busy = false;
      this.stop();
      this.onError(err);
      return;
    }
    this.busy = false;
    if (this.stopped) return;
    const wanted = this.wantedAt;
    this.wantedAt = Infinity;
    if (wanted !== Infinity) this.request(wanted - Date.now());
    if (next !== null) this.request(next);
  }
}
