/**
 * The open-loop load generator. Requests are due on the schedule whatever the server does; a due request goes
 * out on a free keep-alive connection or waits in a FIFO backlog (send_wait). Latency is measured from the
 * intended send time (corrected for coordinated omission) and from the actual one (uncorrected), and reported per
 * interval of the shared monotonic clock, so the generator's intervals and the agents' are the same intervals.
 *
 * Accounting: every due request ends as completed (a 2xx response) or as exactly one error, counted in the
 * interval where it completed or failed. What is still unanswered when the run ends counts as an error of its last
 * interval ('unsent' if never written, 'timeout' if in flight), so over a run due = completed + errors.
 */
import { intervalIndex, monoMs } from '../model/clock.js';
import type { GeneratorInterval } from '../model/frames.js';
import { Backlog } from './backlog.js';
import { checkGeneratorConfig, type GeneratorConfig } from './config.js';
import { DRAIN_PHASE } from '../model/index.js';
import type { Connection, ErrorKind } from './connection.js';
import { ConnectionPool, type PoolEvents } from './connection-pool.js';
import { IntervalStats } from './interval-stats.js';
import { RequestBytes } from './request-bytes.js';
import { ArrivalCursor, planPhases, segmentAt, type Plan } from './schedule.js';
import { CpuMeter, LoopLagProbe } from './self-monitor.js';

// Intervals after the last phase, while in-flight requests finish, are named DRAIN_PHASE (phase_index = phases.length).
export { DRAIN_PHASE };

export interface GeneratorSummary {
  /** First and last reported interval index; null when the run was stopped before its first phase began. */
  first_index: number | null;
  last_index: number | null;
  intervals: number;
  due: number;
  sent: number;
  completed: number;
  errors: number;
  errors_by_kind: Partial<Record<ErrorKind, number>>;
  /** Intervals in which the generator itself could not keep its rate. */
  saturated_intervals: number;
  aborted: boolean;
}

/** The summary of a run that never started. */
export function emptySummary(aborted = false): GeneratorSummary {
  return { first_index: null, last_index: null, intervals: 0, due: 0, sent: 0, completed: 0, errors: 0, errors_by_kind: {}, saturated_intervals: 0, aborted };
}

export type IntervalCallback = (index: number, t_ms: number, data: GeneratorInterval) => void;

/**
 * Runs the phases against the target and calls `onInterval` once per interval, in index order without gaps, from
 * the first phase's start until the last response or timeout (`t_ms` is the interval's start on the shared clock).
 * Never rejects for the server's failures (they are counted); rejects only for an invalid config.
 */
export function runGenerator(config: GeneratorConfig, onInterval: IntervalCallback, signal?: AbortSignal): Promise<GeneratorSummary> {
  try {
    checkGeneratorConfig(config);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve) => new GeneratorRun(config, onInterval, resolve, signal));
}

const PENDING = 0; // connecting, waiting for the first boundary
const RUNNING = 1;
const DRAINING = 2; // schedule over (or stopped): waiting for in-flight requests up to timeout_ms
const DONE = 3;

class GeneratorRun implements PoolEvents {
  private state = PENDING;
  private readonly iv: number;
  private readonly bytes: RequestBytes;
  private readonly backlog = new Backlog();
  private plan!: Plan;
  private cursor!: ArrivalCursor;
  private readonly stats = new IntervalStats();
  private readonly cpu = new CpuMeter();
  private readonly lag = new LoopLagProbe((lag, now) => this.onLagSample(lag, now), monoMs);
  /** The open interval; Infinity while nothing may roll over (before the start, after the end). */
  private cur = Infinity;
  private readonly pool: ConnectionPool;
  private drainDeadline = Infinity;
  private schedTimer: NodeJS.Timeout | null = null;
  private boundaryTimer: NodeJS.Timeout | null = null;
  private readonly summary = emptySummary();
  private callbackFailed = false;

  constructor(
    private readonly config: GeneratorConfig,
    private readonly onInterval: IntervalCallback,
    private readonly resolve: (s: GeneratorSummary) => void,
    private readonly signal?: AbortSignal,
  ) {
    this.iv = config.interval_ms;
    this.bytes = new RequestBytes(config);
    this.pool = new ConnectionPool(config.target.host, config.target.port, config.connections, this.bytes.expectBody, this);
    if (signal?.aborted) {
      this.finish(monoMs());
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    // Connect the whole pool before the first phase, bounded by the timeout, so connects do not land in it.
    this.pool.fill();
    this.boundaryTimer = setTimeout(this.begin, config.timeout_ms);
  }

  // ---- schedule and intervals ----

  private readonly begin = (): void => {
    if (this.state !== PENDING || this.plan) return;
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    // The first phase starts exactly on the next boundary.
    this.plan = planPhases(this.config.phases, intervalIndex(monoMs(), this.iv) + 1, this.iv);
    this.cursor = new ArrivalCursor(this.plan);
    this.armBoundary(monoMs());
  };

  private readonly onBoundary = (): void => {
    const now = monoMs();
    const idx = intervalIndex(now, this.iv);
    if (this.state === PENDING) {
      if (idx < this.plan.first_index) return this.armBoundary(now); // timers may fire a hair early
      this.state = RUNNING;
      this.cur = this.plan.first_index;
      this.cpu.takeMs();
      this.lag.start();
      this.onSchedule();
    }
    this.roll(now);
    if (this.state === RUNNING && idx >= this.plan.end_index) this.startDrain(now);
    if (this.state !== DONE) this.armBoundary(now);
  };

  private armBoundary(now: number): void {
    const next = Math.max(this.plan.first_index, intervalIndex(now, this.iv) + 1) * this.iv;
    this.boundaryTimer = setTimeout(this.onBoundary, next - now);
  }

  /** Moves every request due by now into the backlog and sends what the free connections can take. */
  private readonly onSchedule = (): void => {
    this.schedTimer = null;
    if (this.state !== RUNNING) return;
    const now = monoMs();
    this.roll(now);
    this.cursor.takeDue(now, this.backlog);
    this.pump();
    // Timers have ms granularity: a tick sends everything due since the last one, each with its own intended time.
    if (this.cursor.next !== Infinity) this.schedTimer = setTimeout(this.onSchedule, Math.max(0, this.cursor.next - now));
  };

  /** Closes the open interval if `now` is past it; cheap enough to call on every event. */
  private roll(now: number): void {
    const idx = Math.floor(now / this.iv);
    if (idx <= this.cur) return;
    // What fell due before now belongs to the intervals about to close: count it first.
    if (this.state === RUNNING) this.cursor.takeDue(idx * this.iv, this.backlog);
    // A stall still in progress is charged to the intervals it kept open; so is the CPU, split evenly.
    const lagSoFar = this.lag.lagSoFar(now);
    const cpuEach = this.cpu.takeMs() / (idx - this.cur);
    for (; this.cur < idx; this.cur++) this.report(this.cur, cpuEach, lagSoFar);
  }

  private report(index: number, cpuMs: number, lagSoFar: number): void {
    const seg = segmentAt(this.plan, index);
    const data = this.stats.close({
      phase: seg ? seg.phase : DRAIN_PHASE,
      phase_index: seg ? seg.phase_index : this.config.phases.length,
      target_rps: seg ? seg.rate : 0,
      due: seg ? this.cursor.due[index - this.plan.first_index] : 0,
      backlog: this.backlog.length,
      in_flight: this.pool.busy,
      connections: this.pool.size,
      cpu_ms: cpuMs,
      interval_ms: this.iv,
      lag_so_far_ms: lagSoFar,
    });
    const sum = this.summary;
    sum.first_index ??= index;
    sum.last_index = index;
    sum.intervals++;
    if (data.saturated) sum.saturated_intervals++;
    try {
      this.onInterval(index, index * this.iv, data);
    } catch (err) {
      // A consumer's bug must not stop the run or skew its timing; say it once.
      if (!this.callbackFailed) process.emitWarning(`srvlens generator: onInterval threw: ${String(err)}`);
      this.callbackFailed = true;
    }
  }

  // ---- sending, and what the pool reports ----

  /** Sends backlogged requests on free connections; asks for new connections only as the backlog needs. */
  private pump(): void {
    const backlog = this.backlog;
    while (backlog.length > 0) {
      const conn = this.pool.take();
      if (conn === undefined) return this.pool.grow(backlog.length);
      const tIntended = backlog.shift();
      const tSend = this.pool.send(conn, this.bytes.next(), tIntended);
      this.roll(tSend);
      this.summary.sent++;
      // Late only from when it could have gone: a request that waited for a connection waited on the server.
      this.stats.recordSend(tSend - (tIntended > conn.idleSince ? tIntended : conn.idleSince));
    }
  }

  responded(conn: Connection, tRecv: number): void {
    this.roll(tRecv);
    const status = conn.parser.status;
    if (status >= 200 && status < 300) {
      this.stats.recordCompletion(conn.tIntended, conn.tSend, tRecv);
      this.summary.completed++;
    } else this.error('status');
    this.afterChange();
  }

  failed(kind: ErrorKind, inFlight: boolean): void {
    if (inFlight) {
      this.roll(monoMs());
      this.error(kind);
    } else if (this.state !== PENDING && this.backlog.length > 0) {
      // The connect was made for the oldest waiting request: that request failed with it.
      this.backlog.shift();
      this.roll(monoMs());
      this.error(kind);
    }
  }

  changed(): void {
    if (this.state === PENDING) {
      if (this.pool.connecting === 0) this.begin();
    } else this.afterChange();
  }

  private afterChange(): void {
    if (this.state === RUNNING || this.state === DRAINING) this.pump();
    if (this.state === DRAINING && this.backlog.length === 0 && this.pool.busy === 0) this.finish(monoMs());
  }

  private error(kind: ErrorKind): void {
    this.stats.errors++;
    this.summary.errors++;
    this.summary.errors_by_kind[kind] = (this.summary.errors_by_kind[kind] ?? 0) + 1;
  }

  // ---- self-monitoring, timeouts, the end ----

  private onLagSample(lag: number, now: number): void {
    if (this.state === DONE) return;
    this.roll(now);
    if (lag > this.stats.loopLagMaxMs) this.stats.loopLagMaxMs = lag;
    // Timeouts are swept here rather than with a timer per request: 10 ms resolution is plenty for a timeout.
    this.pool.sweep(now, this.config.timeout_ms);
    if (this.state === DRAINING && now >= this.drainDeadline) this.finish(now);
  }

  private startDrain(now: number): void {
    this.state = DRAINING;
    if (this.schedTimer) clearTimeout(this.schedTimer);
    this.drainDeadline = now + this.config.timeout_ms;
    this.afterChange();
  }

  private readonly onAbort = (): void => {
    const now = monoMs();
    this.summary.aborted = true;
    if (this.state !== RUNNING) return this.finish(now);
    this.roll(now);
    this.cursor.takeDue(now, this.backlog);
    this.cursor.stop(now);
    // Stopping means stopping: what was due and not yet sent will not be.
    for (let n = this.backlog.length; n > 0; n--) this.error('unsent');
    this.backlog.clear();
    this.startDrain(now);
  };

  private finish(now: number): void {
    if (this.state === DONE) return;
    const started = this.state !== PENDING;
    if (started) this.roll(now);
    for (let n = this.backlog.length; n > 0; n--) this.error('unsent');
    this.backlog.clear();
    for (let n = this.pool.closeAll(); n > 0; n--) this.error('timeout');
    // The last interval is partial; report it if it belongs to a phase or anything happened in it.
    if (started && (this.cur < this.plan.end_index || this.stats.active)) {
      this.report(this.cur, this.cpu.takeMs(), this.lag.lagSoFar(now));
    }
    this.state = DONE;
    this.cur = Infinity;
    if (this.schedTimer) clearTimeout(this.schedTimer);
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    this.lag.stop();
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.cursor) this.summary.due = this.cursor.total;
    this.resolve(this.summary);
  }
}
