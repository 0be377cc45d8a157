/**
 * The dashboard during `srvlens run`, fed from the runner's onFrame. Quitting it (q, Ctrl-C: in raw mode the
 * terminal sends Ctrl-C as a key, not as SIGINT) calls `onQuit`, which stops the run as SIGINT does.
 */
import type { Frame, RunStart } from '../src/vocabulary/index.js';
import { phaseDurationS, type Scenario } from '../src/scenario/schema.js';
import { Dashboard } from './dashboard.js';
import { LiveFrameStore } from './state/frame-store.js';
import { createScreen } from './screen.js';
import type blessed from 'blessed';

export interface LiveDashboard {
  onFrame(frame: Frame, run: RunStart): void;
  /** A line of the runner's log: shown in the status line, since the screen owns the terminal. */
  log(line: string): void;
  /** Gives the terminal back; the run's own messages come after it. */
  close(): void;
}

export function startLiveDashboard(
  scenario: Scenario,
  onQuit: () => void,
  screen: blessed.Widgets.Screen = createScreen({ input: process.stdin, output: process.stdout }),
): LiveDashboard {
  const store = new LiveFrameStore(
    scenario.name,
    scenario.interval_ms,
    scenario.load.phases.map((p) => ({ name: p.name, duration_s: phaseDurationS(p) })),
    scenario.servers.map((s) => ({ name: s.name, model: s.model, size: s.size })),
    { slo: scenario.slo ?? null },
  );
  const dashboard = new Dashboard({ screen, timeline: store });
  let closing = false;
  dashboard.done.then(
    () => closing || onQuit(),
    (err: unknown) => {
      // Our bug: say so with the stack, and stop the run (its recording is kept) rather than run on unseen.
      process.stderr.write(`srvlens: the dashboard failed (please report):\n${(err as Error)?.stack ?? err}\n`);
      onQuit();
    },
  );
  return {
    onFrame(frame, run) {
      store.push(frame, run);
      dashboard.refresh();
    },
    log: (line) => dashboard.refresh(line),
    close() {
      closing = true;
      dashboard.close();
    },
  };
}
