/**
 * The screen factory: the dashboard draws into whatever streams it is given, the process's terminal or, in tests,
 * a pair of in-memory streams that stand for one (see test/dashboard/fake-terminal.ts).
 */
import blessed from 'blessed';

export interface ScreenStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** terminfo name; blessed reads $TERM when absent. */
  terminal?: string;
}

export function createScreen({ input, output, terminal }: ScreenStreams): blessed.Widgets.Screen {
  return blessed.screen({
    // @types/blessed has the two stream types swapped in IScreenOptions.
    input: input as never,
    output: output as never,
    terminal,
    title: 'srvlens',
    smartCSR: true,
    // No warnings on the terminal we draw on: a missing terminfo capability is not the user's problem to read.
    warnings: false,
    autoPadding: true,
  });
}
