/**
 * The dashboard: a cursor over a timeline, the views that draw it, the keys that move it, and the one render loop.
 * Replay moves the cursor by itself (playback) and by keys; live keeps it on the newest frame of the server shown.
 * Servers that ran one after another (`srvlens run`) replay one after another; servers that ran side by side
 * (`srvlens dashboard --out`) replay side by side: the cursor is then a moment of the clock that every server is
 * shown at, as the live dashboard showed them.
 */
import type blessed from 'blessed';
import { RenderLoop } from './render-loop.js';
import { SnapshotBuilder, type Cursor } from './state/snapshot.js';
import { positionsUpTo, type RunInfo, type Timeline } from './state/timeline.js';
import { RunView } from './views/run-view.js';
import { CompareView } from './views/compare-view.js';
import { CapacityView } from './views/capacity-view.js';
import { OverTimeView } from './views/over-time-view.js';
import { helpOverlay } from './views/help-overlay.js';
import type { ScreenStatus } from './views/status-text.js';
import type { View } from './views/view.js';

type ViewName = 'run' | 'compare' | 'capacity' | 'time';

/** The first and last interval on the clock of any run with frames. */
function clockRange(runs: readonly RunInfo[]): { first: number; last: number } {
  const withFrames = runs.filter((r) => r.frames > 0);
  return { first: Math.min(...withFrames.map((r) => r.clock[0])), last: Math.max(...withFrames.map((r) => r.clock[r.frames - 1])) };
}

export interface DashboardOptions {
  screen: blessed.Widgets.Screen;
  timeline: Timeline;
  /** Replay: intervals of the recording played per interval of real time (default 1). */
  speed?: number;
  /** Replay: start paused (default: playing). */
  paused?: boolean;
}

/** Bounds of the playback speed, which + doubles and - halves. */
const MIN_SPEED = 1 / 16;
const MAX_SPEED = 64;

export class Dashboard {
  /** Resolves once closed (q, Ctrl-C, or close()); rejects if drawing failed (a bug of ours: the error says where). */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private readonly screen: blessed.Widgets.Screen;
  private readonly timeline: Timeline;
  private readonly builder: SnapshotBuilder;
  private readonly loop: RenderLoop;
  private readonly views: Record<ViewName, View>;
  private readonly help: blessed.Widgets.BoxElement;
  private view: ViewName = 'run';
  /** Replay: the frame shown. */
  private cursor: Cursor = { run: 0, pos: 0 };
  /** Replay of servers side by side: the moment shown, an interval of the clock (null otherwise). */
  private moment: number | null = null;
  /** Live: the server shown (its newest frame), null to follow the one running now. */
  private chosenRun: number | null = null;
  private playing: boolean;
  private speed: number;
  private nextStepAt = 0;
  private note: string | null = null;
  private closed = false;

  constructor(options: DashboardOptions) {
    this.screen = options.screen;
    this.timeline = options.timeline;
    this.builder = new SnapshotBuilder(this.timeline);
    this.speed = options.speed ?? 1;
    this.playing = this.timeline.source === 'replay' && !options.paused;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.views = { run: new RunView(this.screen), compare: new CompareView(this.screen), capacity: new CapacityView(this.screen), time: new OverTimeView(this.screen) };
    for (const v of ['compare', 'capacity', 'time'] as const) this.views[v].hide();
    this.help = helpOverlay(this.screen, this.timeline.damage ? [`this recording is damaged: ${this.timeline.damage}; it replays up to there.`] : []);
    this.loop = new RenderLoop(
      () => this.pass(),
      (err) => this.fail(err),
    );
    this.screen.on('keypress', (ch: string | undefined, key: { full?: string; name?: string } | undefined) => this.onKey(key?.full ?? key?.name ?? ch ?? ''));
    this.screen.on('resize', () => this.loop.request(0));
    const first = this.runs().findIndex((r) => r.frames > 0);
    if (first >= 0) this.cursor = { run: first, pos: 0 };
    if (!this.live() && this.timeline.concurrent && first >= 0) this.moveTo(clockRange(this.runs()).first);
    this.nextStepAt = Date.now() + this.stepMs();
    this.loop.request(0);
  }

  /** Live: new frames arrived, or a line worth showing (the runner's log). */
  refresh(note?: string): void {
    if (note !== undefined) this.note = note;
    this.loop.request(0);
  }

  /** Stops the loop and gives the terminal back. Safe to call more than once. */
  close(): void {
    if (this.shutDown()) this.resolveDone();
  }

  /** For tests: whether the loop still holds a timer. */
  get timerArmed(): boolean {
    return this.loop.armed;
  }

  private runs(): readonly RunInfo[] {
    return this.timeline.runs();
  }

  private stepMs(): number {
    return this.timeline.intervalMs / this.speed;
  }

  private live(): boolean {
    return this.timeline.source === 'live';
  }

  /** Live: the newest frame of the chosen server, or of the newest server. */
  private current(): Cursor | null {
    if (!this.live()) return this.cursor;
    const runs = this.runs();
    const run = this.chosenRun ?? runs.reduce((last, r, i) => (r.frames > 0 ? i : last), -1);
    return run >= 0 && runs[run]?.frames ? { run, pos: runs[run].frames - 1 } : null;
  }

  private async pass(): Promise<number | null> {
    if (this.playing && Date.now() >= this.nextStepAt) {
      if (!this.step(1)) this.playing = false;
      this.nextStepAt = Date.now() + this.stepMs();
    }
    const cursor = this.current();
    const view = this.views[this.view];
    const snapshot = cursor ? await this.builder.build(cursor, view.needs) : null;
    if (this.closed) return null;
    view.update(snapshot, this.state());
    this.screen.render();
    // A long run's series is read a part per render: the next part comes at once.
    if (snapshot?.pending) return 0;
    return this.playing ? Math.max(0, this.nextStepAt - Date.now()) : null;
  }

  private state(): ScreenStatus {
    let note = this.note;
    if (!this.live()) {
      const atEnd = this.isLast(this.cursor);
      // Short: it shares the status line with the position at 80 columns. The help has the whole message.
      if (this.timeline.damage) note = atEnd ? 'damaged: it stops here (h)' : 'damaged recording (h)';
      else if (atEnd) note = 'end of the recording';
    }
    return { source: this.timeline.source, scenario: this.timeline.scenario, playing: this.playing, speed: this.speed, note };
  }

  private onKey(key: string): void {
    if (this.closed) return;
    if (key === 'q' || key === 'C-c') return this.quit();
    if (!this.help.hidden) {
      this.help.hide();
      return this.loop.request(0);
    }
    const replay = !this.live();
    switch (key) {
      case 'h':
      case '?':
        this.help.show();
        this.help.setFront();
        break;
      case 'c':
        this.toggle('compare');
        break;
      case 'k':
        this.toggle('capacity');
        break;
      case 't':
        this.toggle('time');
        break;
      case 'tab':
        this.nextServer();
        break;
      case 'space':
        if (!replay) return;
        this.playing = !this.playing;
        this.nextStepAt = Date.now() + this.stepMs();
        break;
      case 'left':
      case 'right':
        if (!replay) return;
        this.playing = false;
        this.step(key === 'right' ? 1 : -1);
        break;
      case 'home':
      case 'end':
        if (!replay) return;
        this.seekEdge(key === 'home');
        break;
      case '+':
      case '=':
      case '-':
      case '_':
        if (!replay) return;
        this.speed = Math.min(MAX_SPEED, Math.max(MIN_SPEED, key === '+' || key === '=' ? this.speed * 2 : this.speed / 2));
        this.nextStepAt = Date.now() + this.stepMs();
        break;
      default:
        return;
    }
    this.loop.request(0);
  }

  /** Shows view `v`, or the Run view if `v` is showing: each view's key opens it and closes it. */
  private toggle(v: ViewName): void {
    this.views[this.view].hide();
    this.view = this.view === v ? 'run' : v;
    this.views[this.view].show();
  }

  /**
   * Moves the replay cursor by one interval, across servers in recording order (side by side: to the next moment
   * any server has an interval at); false at either end.
   */
  private step(delta: 1 | -1): boolean {
    const runs = this.runs();
    if (this.moment !== null) {
      const { first, last } = clockRange(runs);
      let t = this.moment + delta;
      while (t >= first && t <= last && !runs.some((r) => r.clock[positionsUpTo(r, t) - 1] === t)) t += delta;
      if (t < first || t > last) return false;
      this.moveTo(t);
      return true;
    }
    const { run, pos } = this.cursor;
    if (pos + delta >= 0 && pos + delta < (runs[run]?.frames ?? 0)) {
      this.cursor = { run, pos: pos + delta };
      return true;
    }
    for (let r = run + delta; r >= 0 && r < runs.length; r += delta) {
      if (runs[r].frames > 0) {
        this.cursor = { run: r, pos: delta > 0 ? 0 : runs[r].frames - 1 };
        return true;
      }
    }
    return false;
  }

  /**
   * Side by side: shows moment `t`, on the server shown if it was running then, else on the one that started last
   * of those that were (as the live dashboard follows the newest server).
   */
  private moveTo(t: number): void {
    const runs = this.runs();
    const running = (r: RunInfo) => r.frames > 0 && r.clock[0] <= t && t <= r.clock[r.frames - 1];
    let run = this.cursor.run;
    if (!runs[run] || !running(runs[run])) {
      const newest = runs.reduce((best, r, i) => (running(r) && (best < 0 || r.clock[0] >= runs[best].clock[0]) ? i : best), -1);
      if (newest >= 0) run = newest;
    }
    this.moment = t;
    this.cursor = { run, pos: Math.max(0, positionsUpTo(runs[run], t) - 1) };
  }

  private isLast(c: Cursor): boolean {
    const runs = this.runs();
    if (this.moment !== null) return this.moment === clockRange(runs).last;
    return c.pos === runs[c.run].frames - 1 && runs.slice(c.run + 1).every((r) => r.frames === 0);
  }

  private seekEdge(first: boolean): void {
    const runs = this.runs();
    const withFrames = runs.map((r, i) => (r.frames > 0 ? i : -1)).filter((i) => i >= 0);
    if (withFrames.length === 0) return;
    if (this.moment !== null) {
      const range = clockRange(runs);
      return this.moveTo(first ? range.first : range.last);
    }
    const run = first ? withFrames[0] : withFrames[withFrames.length - 1];
    this.cursor = { run, pos: first ? 0 : runs[run].frames - 1 };
  }

  /**
   * The next server with frames, at the same point of the same phase: servers run one after another through the
   * same phases, so this is the moment of the scenario the user was looking at, on another server.
   */
  private nextServer(): void {
    const runs = this.runs();
    const from = this.current();
    if (!from || runs.length < 2) return;
    for (let k = 1; k < runs.length; k++) {
      const r = (from.run + k) % runs.length;
      if (runs[r].frames === 0) continue;
      if (this.live()) {
        const newest = runs.reduce((last, x, i) => (x.frames > 0 ? i : last), -1);
        this.chosenRun = r === newest ? null : r;
        return;
      }
      if (this.moment !== null) {
        // Side by side: the same moment on the next server that was running then.
        const t = this.moment;
        if (runs[r].clock[0] > t || runs[r].clock[runs[r].frames - 1] < t) continue;
        this.cursor = { run: r, pos: Math.max(0, positionsUpTo(runs[r], t) - 1) };
        return;
      }
      const span = runs[from.run].spans.find((s) => from.pos >= s.from && from.pos < s.to);
      const same = span && runs[r].spans.find((s) => s.index === span.index && s.name === span.name);
      const pos = same ? Math.min(same.from + (from.pos - span.from), same.to - 1) : Math.min(from.pos, runs[r].frames - 1);
      this.cursor = { run: r, pos };
      return;
    }
  }

  private quit(): void {
    this.close();
  }

  private fail(err: unknown): void {
    if (this.shutDown()) this.rejectDone(err);
  }

  /** False when already shut down. */
  private shutDown(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.loop.stop();
    this.screen.destroy();
    return true;
  }
}
