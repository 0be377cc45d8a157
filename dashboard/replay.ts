/** `srvlens replay`: a recording in the dashboard, until the user quits or `stop` is aborted. */
import { UserError } from '../src/vocabulary/errors.js';
import { Dashboard } from './dashboard.js';
import { RecordingIndex } from './state/recording-index.js';
import { createScreen, type ScreenStreams } from './screen.js';

export interface ReplayOptions extends ScreenStreams {
  speed: number;
  /**
   * Ends the replay as q does. The command aborts it on SIGINT and SIGTERM: the process's signals are the
   * command's to handle, not the dashboard's.
   */
  stop?: AbortSignal;
}

export interface ReplayResult {
  /** Why the recording stops early, when it is damaged. */
  damage: string | null;
}

export async function replayRecording(path: string, options: ReplayOptions): Promise<ReplayResult> {
  const index = await RecordingIndex.open(path);
  try {
    if (index.runs().every((r) => r.frames === 0)) {
      throw new UserError(`${path}: nothing to replay: the recording has no frames${index.damage ? ` (${index.damage})` : ''}`, 'RECORDING_EMPTY');
    }
    // Stopped while the recording was being opened: no screen to take the terminal for.
    if (options.stop?.aborted) return { damage: index.damage };
    const dashboard = new Dashboard({ screen: createScreen(options), timeline: index, speed: options.speed });
    // Closed on a later turn, not from within the abort: a signal aborts it from its handler, where destroying the
    // screen would let blessed's own handler exit 0 (src/commands/stop-signals.ts).
    let onStop = (): void => undefined;
    const stopped = new Promise<void>((resolve) => (onStop = resolve));
    options.stop?.addEventListener('abort', onStop, { once: true });
    try {
      await Promise.race([dashboard.done, stopped]);
    } finally {
      options.stop?.removeEventListener('abort', onStop);
      dashboard.close();
    }
    return { damage: index.damage };
  } finally {
    await index.close();
  }
}
