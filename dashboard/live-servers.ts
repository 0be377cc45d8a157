/**
 * The live dashboard over servers that turn up as they report, with no scenario behind them: `srvlens dashboard`
 * (a server per service that sends to the collector, side by side) and `srvlens attach --dashboard` (one process
 * tree seen from /proc). The same views as `srvlens run`'s; q and Ctrl-C (a key in raw mode, not SIGINT) resolve
 * `done`.
 */
import type blessed from 'blessed';
import type { Frame, ModelSeen, RunStart } from '../src/vocabulary/index.js';
import { Dashboard } from './dashboard.js';
import { LiveFrameStore } from './state/frame-store.js';
import { createScreen } from './screen.js';

export interface LiveServersDashboard {
  /** Resolves once the user quits; rejects when drawing failed (a bug of ours, with its stack). */
  readonly done: Promise<void>;
  start(run: RunStart): void;
  frame(frame: Frame, run: RunStart): void;
  end(run: number, ok: boolean, error: string | null): void;
  /** The model the /proc agent names the run's server now, and why. */
  detect(run: number, finding: ModelSeen): void;
  /** A line for the status line: the screen owns the terminal. */
  log(line: string): void;
  /** Gives the terminal back. */
  close(): void;
}

/** `title`: what the status line names the source by, e.g. "dashboard on 127.0.0.1:4318". */
export function startLiveServersDashboard(
  title: string,
  intervalMs: number,
  screen: blessed.Widgets.Screen = createScreen({ input: process.stdin, output: process.stdout }),
): LiveServersDashboard {
  const store = new LiveFrameStore(title, intervalMs, null, [], { concurrent: true });
  const dashboard = new Dashboard({ screen, timeline: store });
  return {
    done: dashboard.done,
    start(run) {
      store.start(run);
      dashboard.refresh();
    },
    frame(frame, run) {
      store.push(frame, run);
      dashboard.refresh();
    },
    end(run, ok, error) {
      store.end(run, ok, error);
      dashboard.refresh();
    },
    detect(run, finding) {
      store.detect(run, finding);
      dashboard.refresh();
    },
    log: (line) => dashboard.refresh(line),
    close: () => dashboard.close(),
  };
}
