/**
 * The one interface of everything that makes timeline frames live (ARCHITECTURE section 10): the runner's assembler
 * (collect/frame-assembler.ts), the dashboard's runs of the services that report (collect/service-runs.ts) and the
 * /proc watch (agents/proc/proc-watch.ts). Whoever consumes live frames (a recording, a dashboard, an analysis)
 * takes them from any of these the same way. A recording is not pushed but read (recording/reader.ts yields its
 * records, run starts and ends among them, and the replay seeks in it), so it is no FrameSource.
 */
import type { Frame } from './frames.js';

/** Where a source's frames go. */
export type FrameSink = (frame: Frame) => void;

export interface FrameSource {
  /**
   * Sends every frame made from now on to `sink`; a later call replaces it. Each frame is sent once and not changed
   * after; the frames of one run come in index order. A source that measures only part of an interval (the /proc
   * watch beside the agents) sends frames with what it measured and null or nothing for the rest: an assembler joins
   * them into its own (FrameAssembler.include).
   */
  pipe(sink: FrameSink): void;
}
