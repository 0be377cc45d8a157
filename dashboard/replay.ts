/** `srvlens replay`: a recording in the dashboard, until the user quits. */
import { UserError } from '../src/vocabulary/errors.js';
import { trapStopSignals } from '../src/commands/stop-signals.js';
import { Dashboard } from './dashboard.js';
import { RecordingIndex } from './state/recording-index.js';
import { createScreen, type ScreenStreams } from './screen.js';

export interface ReplayResult {
  /** Why the recording stops early, when it is damaged. */
  damage: string | null;
  /** Set when a signal ended the replay rather than the user's q. */
  signal: NodeJS.Signals | null;
}

export async function replayRecording(path: string, options: ScreenStreams & { speed: number }): Promise<ReplayResult> {
  const index = await RecordingIndex.open(path);
  try {
    if (index.runs().every((r) => r.frames === 0)) {
      throw new UserError(`${path}: nothing to replay: the recording has no frames${index.damage ? ` (${index.damage})` : ''}`, 'RECORDING_EMPTY');
    }
    const dashboard = new Dashboard({ screen: createScreen(options), timeline: index, speed: options.speed });
    let signal: NodeJS.Signals | null = null;
    // Our own handlers: blessed's (used only when it is the sole listener) would exit 0 on SIGTERM mid-replay.
    const onSignal = (sig: NodeJS.Signals) => {
      signal = sig;
      dashboard.close();
    };
    const releaseSignals = trapStopSignals(onSignal);
    try {
      await dashboard.done;
    } finally {
      releaseSignals();
      dashboard.close();
    }
    return { damage: index.damage, signal };
  } finally {
    await index.close();
  }
}
