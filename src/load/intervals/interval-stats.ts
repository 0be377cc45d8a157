/**
 * What the generator accumulates within one interval: counters, HDR latency histograms and the sums. Reused from
 * interval to interval (reset after each report): the hot path increments numbers and records two values.
 */
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { GeneratorInterval, MixInterval } from '../../vocabulary/frames.js';
import { saturationReasons, SEND_LATE_LIMIT_MS } from './self-monitor.js';

/** What the generator knows about an interval beyond its own counters. */
export type IntervalContext = Pick<
  GeneratorInterval,
  'phase' | 'phase_index' | 'target_rps' | 'due' | 'backlog' | 'in_flight' | 'connections' | 'cpu_ms' | 'warmup' | 'closed_loop' | 'users' | 'slow' | 'idle_open'
> & { interval_ms: number; lag_so_far_ms: number };

/** Histogram range, µs: 1 µs resolution at the bottom, 60 s at the top, 3 significant digits (0.1 % error). */
const LOWEST_US = 1;
const HIGHEST_US = 60_000_000;

export function latencyHistogram(): Histogram {
  // autoResize off: the bucket array is sized once; values outside the range are clamped by `clampUs`.
  return build({ lowestDiscernibleValue: LOWEST_US, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: false });
}

function clampUs(us: number): number {
  return us < LOWEST_US ? LOWEST_US : us > HIGHEST_US ? HIGHEST_US : Math.round(us);
}

class MixStats {
  sent = 0;
  completed = 0;
  errors = 0;
  readonly latency = latencyHistogram();
  constructor(readonly name: string) {}
}

export class IntervalStats {
  sent = 0;
  completed = 0;
  errors = 0;
  /** Sums over completed requests, ms. */
  sumTotalMs = 0;
  sumSendWaitMs = 0;
  sumResponseMs = 0;
  /** Worst lateness of a send that had a free connection, how many were late, and the loop's worst lateness, ms. */
  sendLateMaxMs = 0;
  lateSends = 0;
  loopLagMaxMs = 0;
  connects = 0;
  sumConnectMs = 0;
  private readonly corrected = latencyHistogram();
  private readonly uncorrected = latencyHistogram();
  private readonly connectTimes = latencyHistogram();
  private readonly mix: MixStats[] | null;

  /** `mixNames`: the mix entries' names, when the config has a mix. */
  constructor(mixNames?: readonly string[], private readonly reportConnects = false) {
    this.mix = mixNames ? mixNames.map((n) => new MixStats(n)) : null;
  }

  /**
   * A 2xx response: times in ms on the shared clock. A closed-loop request passes its send time as `tIntended`:
   * there was no schedule, so corrected and uncorrected are the same measurement.
   */
  recordCompletion(tIntended: number, tSend: number, tRecv: number, mix: number): void {
    const total = tRecv - tIntended;
    const response = tRecv - tSend;
    this.completed++;
    this.sumTotalMs += total;
    this.sumSendWaitMs += tSend - tIntended;
    this.sumResponseMs += response;
    // HDR records integer µs: the only conversion, on the histograms' path.
    const totalUs = clampUs(total * 1000);
    this.corrected.recordValue(totalUs);
    this.uncorrected.recordValue(clampUs(response * 1000));
    if (this.mix !== null) {
      const m = this.mix[mix];
      m.completed++;
      m.latency.recordValue(totalUs);
    }
  }

  recordError(mix: number): void {
    this.errors++;
    if (this.mix !== null && mix >= 0) this.mix[mix].errors++;
  }

  /** A request written `lateMs` after it could have been (due, with a connection free). */
  recordSend(lateMs: number, mix: number): void {
    this.sent++;
    if (this.mix !== null) this.mix[mix].sent++;
    if (lateMs > this.sendLateMaxMs) this.sendLateMaxMs = lateMs;
    if (lateMs > SEND_LATE_LIMIT_MS) this.lateSends++;
  }

  recordConnect(ms: number): void {
    this.connects++;
    this.sumConnectMs += ms;
    this.connectTimes.recordValue(clampUs(ms * 1000));
  }

  /** True when anything happened in the interval. */
  get active(): boolean {
    return this.sent + this.completed + this.errors > 0;
  }

  /** The interval's report; resets everything for the next interval. */
  close(ctx: IntervalContext): GeneratorInterval {
    const loopLag = Math.max(this.loopLagMaxMs, ctx.lag_so_far_ms);
    const saturation = saturationReasons({
      cpuMs: ctx.cpu_ms, intervalMs: ctx.interval_ms, loopLagMaxMs: loopLag,
      sent: this.sent, lateSends: this.lateSends, sendLateMaxMs: this.sendLateMaxMs,
    });
    const out: GeneratorInterval = {
      phase: ctx.phase,
      phase_index: ctx.phase_index,
      target_rps: ctx.target_rps,
      due: ctx.due,
      sent: this.sent,
      completed: this.completed,
      errors: this.errors,
      latency_hdr: encodeIntoCompressedBase64(this.corrected),
      uncorrected_hdr: encodeIntoCompressedBase64(this.uncorrected),
      sum_total_ms: this.sumTotalMs,
      sum_send_wait_ms: this.sumSendWaitMs,
      sum_response_ms: this.sumResponseMs,
      backlog: ctx.backlog,
      in_flight: ctx.in_flight,
      connections: ctx.connections,
      cpu_ms: ctx.cpu_ms,
      loop_lag_max_ms: loopLag,
      saturated: saturation.length > 0,
      saturation,
    };
    // Extras only where they apply, so a plain run's intervals are what they always were.
    if (ctx.warmup) out.warmup = true;
    if (ctx.closed_loop) {
      out.closed_loop = true;
      out.users = ctx.users;
    }
    if (this.reportConnects || this.connects > 0) {
      out.connects = this.connects;
      out.sum_connect_ms = this.sumConnectMs;
      out.connect_hdr = encodeIntoCompressedBase64(this.connectTimes);
    }
    if (this.lateSends > 0) out.send_late_max_ms = this.sendLateMaxMs;
    if (this.mix !== null) out.mix = this.mix.map((m) => this.closeMix(m));
    if (ctx.slow !== undefined) out.slow = ctx.slow;
    if (ctx.idle_open !== undefined) out.idle_open = ctx.idle_open;
    this.corrected.reset();
    this.uncorrected.reset();
    this.connectTimes.reset();
    this.sent = this.completed = this.errors = this.connects = 0;
    this.sumTotalMs = this.sumSendWaitMs = this.sumResponseMs = this.sumConnectMs = 0;
    this.sendLateMaxMs = this.lateSends = this.loopLagMaxMs = 0;
    return out;
  }

  private closeMix(m: MixStats): MixInterval {
    const out = { name: m.name, sent: m.sent, completed: m.completed, errors: m.errors, latency_hdr: encodeIntoCompressedBase64(m.latency) };
    m.latency.reset();
    m.sent = m.completed = m.errors = 0;
    return out;
  }
}
