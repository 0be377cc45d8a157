/**
 * The generator watching itself, so that an interval in which IT could not keep the schedule is flagged rather
 * than reported as the server's latency (ARCHITECTURE section 6). A backlog because every connection is busy is
 * the server's doing and shows as send_wait; it never sets the flag.
 */
import { readFileSync } from 'node:fs';
import { CPU_SATURATION_SHARE } from '../../vocabulary/generator-limits.js';

/**
 * Lateness of the generator's own loop, ms, above which its timestamps are not trusted. A stall this long delays
 * the sends and the reads of every request in it by up to as much. Below it sit young-generation GC pauses and
 * timer rounding (1-5 ms on an idle loop, up to ~10 ms once a second on a busy 2-core host), which would otherwise
 * flag intervals all the time.
 */
export const LOOP_LAG_LIMIT_MS = 20;

/**
 * How late a send may be written after it was due while a connection was free, ms. Timers fire at ms granularity
 * and a tick writes a batch, so 1-2 ms is normal; a bare 1 ms timer on a busy 2-core host was measured up to 9.5 ms
 * late once a second. Beyond 10 ms the generator's own delay is larger than a typical local server's latency.
 */
export const SEND_LATE_LIMIT_MS = 10;

/**
 * Share of an interval's sends that may be that late before the interval is flagged. A percentile carries the
 * generator's delay only when more than (100 - p) % of the samples do: one 12 ms hiccup in a 1 s interval delays
 * ~1.2 % of the sends, which reaches p99 (the percentile reports lead with), while a 3 ms one does not.
 */
export const LATE_SEND_SHARE_LIMIT = 0.01;

/** The lag probe's period, ms: fine enough to catch a 20 ms stall, cheap enough to cost nothing (100 wakeups/s). */
export const LAG_SAMPLE_MS = 10;

/** What the generator saw of itself in one interval. */
export interface SelfSample {
  cpuMs: number;
  intervalMs: number;
  loopLagMaxMs: number;
  sent: number;
  /** Sends later than SEND_LATE_LIMIT_MS with a connection free, and the worst lateness of any send, ms. */
  lateSends: number;
  sendLateMaxMs: number;
}

/** The saturation reasons for one interval, empty when the generator kept up. */
export function saturationReasons(s: SelfSample): string[] {
  const reasons: string[] = [];
  const share = s.cpuMs / s.intervalMs;
  if (share >= CPU_SATURATION_SHARE) reasons.push(`generator cpu ${Math.round(share * 100)}% of a core`);
  if (s.loopLagMaxMs >= LOOP_LAG_LIMIT_MS) reasons.push(`generator loop lag ${Math.round(s.loopLagMaxMs)} ms`);
  if (s.lateSends > 0 && s.lateSends >= s.sent * LATE_SEND_SHARE_LIMIT) {
    const pct = Math.round((1000 * s.lateSends) / s.sent) / 10;
    reasons.push(`sends late by ${Math.round(s.sendLateMaxMs)} ms while connections were free (${pct}% of sends)`);
  }
  return reasons;
}

/** CPU time of this process (user + system) since the previous reading, ms. */
export class CpuMeter {
  private last = process.cpuUsage();

  takeMs(): number {
    const now = process.cpuUsage();
    const ms = (now.user - this.last.user + now.system - this.last.system) / 1000;
    this.last = now;
    return ms;
  }
}

/**
 * Lateness of a small periodic timer: how long the loop was busy when it should have run the timer. Unref'd, so it
 * never keeps a process alive. `lagSoFar` also sees a stall still in progress (the timer overdue, not yet run), so an
 * interval closed at the end of a long stall is charged with it.
 */
export class LoopLagProbe {
  private expected = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onSample: (lagMs: number, nowMs: number) => void, private readonly clock: () => number) {}

  start(): void {
    this.expected = this.clock() + LAG_SAMPLE_MS;
    this.timer = setTimeout(this.tick, LAG_SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  lagSoFar(now: number): number {
    return this.timer && now > this.expected ? now - this.expected : 0;
  }

  private readonly tick = (): void => {
    const now = this.clock();
    const lag = now > this.expected ? now - this.expected : 0;
    try {
      // Before re-arming, so that lagSoFar() inside the callback still sees this stall.
      this.onSample(lag, now);
    } finally {
      if (this.timer !== null) {
        this.expected = now + LAG_SAMPLE_MS;
        this.timer = setTimeout(this.tick, LAG_SAMPLE_MS);
        this.timer.unref();
      }
    }
  };
}

/**
 * CPU time of the calling thread alone since the previous reading, ms, from /proc/thread-self/schedstat (on-CPU ns).
 * A generator spread over threads judges each thread's saturation by its own CPU: process.cpuUsage() would count
 * every thread's, and two threads at 60 % would look like one saturated one. Falls back to the process's CPU where
 * /proc is not there.
 */
export class ThreadCpuMeter {
  private readonly fallback: CpuMeter | null;
  private last: number;

  constructor() {
    const ns = readThreadNs();
    this.fallback = ns === null ? new CpuMeter() : null;
    this.last = ns ?? 0;
  }

  takeMs(): number {
    if (this.fallback) return this.fallback.takeMs();
    const ns = readThreadNs() ?? this.last;
    const ms = (ns - this.last) / 1e6;
    this.last = ns;
    return ms;
  }
}

function readThreadNs(): number | null {
  try {
    const n = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}
