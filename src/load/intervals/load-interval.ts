/**
 * What the generator reports per interval beyond the GeneratorInterval of src/vocabulary/frames.ts. Every field is
 * optional and present only where it applies, so a recording of a plain open-loop run is as before; the frame
 * assembler passes the object through as it is, so these reach the recording. (To be folded into GeneratorInterval
 * in src/vocabulary/frames.ts, where the vocabulary lives.)
 */
import type { GeneratorInterval } from '../../vocabulary/frames.js';

export interface MixInterval {
  name: string;
  sent: number;
  completed: number;
  errors: number;
  /** Latency of this entry's completed requests, as latency_hdr (µs, HDR, compressed base64). */
  latency_hdr: string;
}

export interface LoadIntervalExtras {
  /** The interval belongs to a phase's warm-up: figures leave it out. */
  warmup?: boolean;
  /**
   * A closed-loop phase: there is no intended send time, so latency runs from the actual send; latency_hdr equals
   * uncorrected_hdr and sum_send_wait_us is 0 by construction, not because nothing waited.
   */
  closed_loop?: boolean;
  /** Closed-loop users of the phase (all threads). */
  users?: number;
  /** TCP connects completed in the interval, their summed time (µs) and distribution (µs, HDR); with `connection: new`, one per request. */
  connects?: number;
  sum_connect_us?: number;
  connect_hdr?: string;
  /** Per mix entry, in the config's order. */
  mix?: MixInterval[];
  /** Slow clients: connections open at the end of the interval, their requests answered and failed in it. */
  slow?: { open: number; completed: number; errors: number };
  /** Idle connections held open at the end of the interval. */
  idle_open?: number;
  /** The worst lateness of a send the generator itself caused (a connection was free), ms; only when some were late. */
  send_late_max_ms?: number;
  /** Generator threads whose reports were merged into this interval (histograms added, counts summed). */
  threads?: number;
}

export type LoadInterval = GeneratorInterval & LoadIntervalExtras;

/** Called once per interval, in index order; `t_ms` is the interval's start on the shared clock. */
export type IntervalCallback = (index: number, t_ms: number, data: LoadInterval) => void;
