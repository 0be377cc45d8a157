/**
 * One thread's generator run. Requests are due on the schedule (open loop) or when a closed-loop user is done
 * thinking; a due request goes out on a free connection or waits in a FIFO backlog (send_wait). Open-loop latency
 * is measured from the intended send time (corrected for coordinated omission) and from the actual one
 * (uncorrected); closed-loop latency from the actual send only, there being no schedule. Everything is reported per
 * interval of the shared monotonic clock, so the generator's intervals and the agents' are the same intervals.
 */
import { intervalIndex, monoMs } from '../vocabulary/clock.js';
import { DRAIN_PHASE } from '../vocabulary/index.js';
import { Backlog } from './arrivals/backlog.js';
import type { GeneratorConfig } from './config.js';
import type { Connection, ErrorKind } from './connections/connection.js';
import { ConnectionPool, type PoolEvents } from './connections/connection-pool.js';
import { IdleConnections } from './connections/idle-connections.js';
import { IntervalStats } from './intervals/interval-stats.js';
import type { IntervalCallback } from './intervals/interval-callback.js';
import { MixPicker } from './arrivals/mix.js';
import { Random, threadSeed } from '../vocabulary/random.js';
import { requestKinds, type RequestBytes } from './connections/request-bytes.js';
import { planPhases, segmentAt, targetRate, type Plan, type Share } from './arrivals/plan.js';
import { Schedule } from './arrivals/schedule.js';
import { CpuMeter, LoopLagProbe, ThreadCpuMeter } from './intervals/self-monitor.js';
import { SlowClients } from './connections/slow-clients.js';
import { emptySummary, type GeneratorSummary } from './intervals/summary.js';

export interface RunOptions {
  share: Share;
  onInterval: IntervalCallback;
  signal?: AbortSignal;
  /**
   * Set when the run is one of several threads: it calls `ready` once its connections are open and then waits for
   * `go(firstIndex)`, so that every thread starts on the same boundary.
   */
  ready?: () => void;
}

/** How long the first phase waits for idle connections to open, ms, at most: 10k connects take 1-3 s here. */
const IDLE_OPEN_WAIT_MS = 15_000;

/** Thread `index`'s part of `total` things (users, connections), the remainder going to the first threads. */
export function shareOf(total: number, share: Share): number {
  return Math.floor(total / share.count) + (share.index < total % share.count ? 1 : 0);
}

export function startRun(config: GeneratorConfig, opts: RunOptions): { run: GeneratorRun; done: Promise<GeneratorSummary> } {
  let run!: GeneratorRun;
  const done = new Promise<GeneratorSummary>((resolve) => (run = new GeneratorRun(config, opts, resolve)));
  return { run, done };
}

const PENDING = 0; // connecting, waiting for the first boundary
const RUNNING = 1;
const DRAINING = 2; // schedule over (or stopped): waiting for in-flight requests up to timeout_ms
const DONE = 3;

export class GeneratorRun implements PoolEvents {
  private state = PENDING;
  private readonly iv: number;
  private readonly share: Share;
  private readonly onInterval: IntervalCallback;
  private readonly signal?: AbortSignal;
  private readonly ready?: () => void;
  private begun = false;
  private readonly kinds: RequestBytes[];
  private readonly picker: MixPicker | null;
  private readonly random: Random;
  private readonly backlog = new Backlog();
  private plan!: Plan;
  private schedule!: Schedule;
  private readonly stats: IntervalStats;
  private readonly cpu: { takeMs(): number };
  private readonly lag = new LoopLagProbe((lag, now) => this.onLagSample(lag, now), monoMs);
  /** The open interval; Infinity while nothing may roll over (before the start, after the end). */
  private cur = Infinity;
  private readonly pool: ConnectionPool;
  private readonly idle: IdleConnections | null = null;
  private idleSettled = true;
  private readonly slow: SlowClients | null = null;
  private drainDeadline = Infinity;
  private schedTimer: NodeJS.Timeout | null = null;
  private schedAt = Infinity;
  private boundaryTimer: NodeJS.Timeout | null = null;
  private readonly summary = emptySummary();
  private callbackFailed = false;

  constructor(
    private readonly config: GeneratorConfig,
    opts: RunOptions,
    private readonly resolve: (s: GeneratorSummary) => void,
  ) {
    this.iv = config.interval_ms;
    this.share = opts.share;
    this.onInterval = opts.onInterval;
    this.signal = opts.signal;
    this.ready = opts.ready;
    const seed = threadSeed(config.seed ?? 1, this.share.index);
    this.random = new Random(seed);
    this.kinds = requestKinds(config);
    // Its own stream, so that adding a mix does not move a single arrival.
    this.picker = config.mix ? new MixPicker(config.mix.map((m) => m.weight), new Random(seed ^ 0x5bd1e995)) : null;
    this.stats = new IntervalStats(config.mix?.map((m) => m.name), config.connection === 'new');
    this.cpu = this.share.count > 1 ? new ThreadCpuMeter() : new CpuMeter();
    // Every closed-loop user has a connection of its own, so that no user waits for another's.
    const users = Math.max(0, ...config.phases.map((p) => (p.kind === 'closed' ? shareOf(p.users, this.share) : 0)));
    const size = Math.max(1, shareOf(config.connections, this.share), users);
    const reuse = config.connection !== 'new';
    this.pool = new ConnectionPool(config.target.host, config.target.port, size, this.kinds[0].expectBody, this, reuse);
    const slowCount = config.slow_clients ? shareOf(config.slow_clients.connections, this.share) : 0;
    if (config.slow_clients && slowCount > 0) {
      this.slow = new SlowClients(config.target.host, config.target.port, config.request.path, config.slow_clients, slowCount, config.timeout_ms);
    }
    if (this.signal?.aborted) {
      this.finish(monoMs());
      return;
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    // Connect the whole pool before the first phase, bounded by the timeout, so connects do not land in it. With a
    // connection per request there is nothing to open ahead.
    if (reuse) this.pool.fill();
    const idleCount = shareOf(config.idle_connections ?? 0, this.share);
    if (idleCount > 0) {
      this.idleSettled = false;
      this.idle = new IdleConnections(config.target.host, config.target.port, idleCount, size + slowCount, this.share.count, () => {
        this.idleSettled = true;
        this.changed();
      });
    }
    this.boundaryTimer = setTimeout(this.begin, this.idle ? Math.max(config.timeout_ms, IDLE_OPEN_WAIT_MS) : config.timeout_ms);
    if (this.idle) this.idle.start();
    else if (!reuse) setImmediate(this.begin);
  }

  /** Starts the phases at interval `firstIndex` (threaded runs; a single thread calls it itself). */
  go(firstIndex: number): void {
    if (this.state !== PENDING || this.plan) return;
    this.plan = planPhases(this.config.phases, firstIndex, this.iv);
    this.schedule = new Schedule(this.plan, this.share, this.random);
    this.armBoundary(monoMs());
  }

  // ---- schedule and intervals ----

  private readonly begin = (): void => {
    if (this.state !== PENDING || this.begun) return;
    this.begun = true;
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    // Alone, the first phase starts exactly on the next boundary; with other threads, where the coordinator says.
    if (this.ready) this.ready();
    else this.go(intervalIndex(monoMs(), this.iv) + 1);
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
      this.slow?.start();
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
    this.schedAt = Infinity;
    if (this.state !== RUNNING) return;
    const now = monoMs();
    this.roll(now);
    this.schedule.takeDue(now, this.backlog);
    this.pump();
    this.armSchedule(now);
  };

  private armSchedule(now: number): void {
    // Timers have ms granularity: a tick sends everything due since the last one, each with its own intended time.
    const next = this.schedule.next;
    if (next === Infinity || next >= this.schedAt) return;
    if (this.schedTimer) clearTimeout(this.schedTimer);
    this.schedAt = next;
    this.schedTimer = setTimeout(this.onSchedule, Math.max(0, next - now));
  }

  /** Closes the open interval if `now` is past it; cheap enough to call on every event. */
  private roll(now: number): void {
    const idx = Math.floor(now / this.iv);
    if (idx <= this.cur) return;
    // What fell due before now belongs to the intervals about to close: count it first.
    if (this.state === RUNNING) this.schedule.takeDue(idx * this.iv, this.backlog);
    // A stall still in progress is charged to the intervals it kept open; so is the CPU, split evenly.
    const lagSoFar = this.lag.lagSoFar(now);
    const cpuEach = this.cpu.takeMs() / (idx - this.cur);
    for (; this.cur < idx; this.cur++) this.report(this.cur, cpuEach, lagSoFar);
  }

  private report(index: number, cpuMs: number, lagSoFar: number): void {
    const seg = segmentAt(this.plan, index);
    const closed = seg?.closed ?? null;
    const { count } = this.share;
    const data = this.stats.close({
      phase: seg ? seg.phase : DRAIN_PHASE,
      phase_index: seg ? seg.phase_index : this.config.phases.length,
      // A thread reports its share (a count-th of the rate, its own users) so that merged reports add up.
      target_rps: seg && !closed ? targetRate(seg, index, this.iv) / count : 0,
      due: seg ? this.schedule.due[index - this.plan.first_index] : 0,
      backlog: this.backlog.length,
      in_flight: this.pool.busy,
      connections: this.pool.size,
      cpu_ms: cpuMs,
      interval_ms: this.iv,
      lag_so_far_ms: lagSoFar,
      warmup: seg?.warmup,
      closed_loop: closed !== null,
      users: closed ? shareOf(closed.users, this.share) : undefined,
      slow: this.slow?.take(),
      idle_open: this.idle?.open,
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
      const mix = this.picker === null ? 0 : this.picker.pick();
      conn.mix = mix;
      conn.closedLoop = this.isClosedLoop(tIntended);
      const tSend = this.pool.send(conn, this.kinds[mix].next(), tIntended);
      this.roll(tSend);
      this.summary.sent++;
      // Late only from when it could have gone: a request that waited for a connection waited on the server.
      this.stats.recordSend(tSend - (tIntended > conn.idleSince ? tIntended : conn.idleSince), mix);
    }
  }

  private isClosedLoop(tIntended: number): boolean {
    return segmentAt(this.plan, Math.floor(tIntended / this.iv))?.closed != null;
  }

  connected(conn: Connection): void {
    if (this.state !== RUNNING && this.state !== DRAINING) return; // the pool's first connects are before any phase
    this.roll(conn.tConnected);
    this.stats.recordConnect(conn.tConnected - conn.tStart);
  }

  responded(conn: Connection, tRecv: number): void {
    this.roll(tRecv);
    const status = conn.parser.status;
    const ok = status >= 200 && status < 300;
    if (ok) {
      this.stats.recordCompletion(conn.closedLoop ? conn.tSend : conn.tIntended, conn.tSend, tRecv, conn.mix);
      this.summary.completed++;
    } else this.error('status', conn.mix);
    if (conn.closedLoop) this.userDone(conn.tIntended, tRecv, !ok);
    this.afterChange();
  }

  failed(kind: ErrorKind, conn: Connection | null): void {
    if (conn !== null) {
      const now = monoMs();
      this.roll(now);
      this.error(kind, conn.mix);
      if (conn.closedLoop) this.userDone(conn.tIntended, now, true);
    } else if (this.state !== PENDING && this.backlog.length > 0) {
      // The connect was made for the oldest waiting request: that request failed with it.
      const t = this.backlog.shift();
      const now = monoMs();
      this.roll(now);
      this.error(kind, -1);
      if (this.isClosedLoop(t)) this.userDone(t, now, true);
    }
  }

  /** A closed-loop user got its answer (or its error) at `t`: it thinks, and may be due again at once. */
  private userDone(tIntended: number, t: number, failed: boolean): void {
    if (this.state !== RUNNING) return;
    this.schedule.userDone(tIntended, t, failed);
    // A user with no think time goes again now; `takeDue` takes what is due strictly before its argument.
    this.schedule.takeDue(t + 1e-6, this.backlog);
    this.armSchedule(t);
  }

  changed(): void {
    if (this.state === PENDING) {
      const poolReady = this.config.connection === 'new' || this.pool.connecting === 0;
      if (poolReady && this.idleSettled) this.begin();
    } else this.afterChange();
  }

  private afterChange(): void {
    if (this.state === RUNNING || this.state === DRAINING) this.pump();
    if (this.state === DRAINING && this.backlog.length === 0 && this.pool.busy === 0) this.finish(monoMs());
  }

  private error(kind: ErrorKind, mix: number): void {
    this.stats.recordError(mix);
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
    this.schedAt = Infinity;
    // The side load ends with the phases: only the measured requests still in flight are waited for.
    this.slow?.stop();
    this.drainDeadline = now + this.config.timeout_ms;
    this.afterChange();
  }

  private readonly onAbort = (): void => {
    const now = monoMs();
    this.summary.aborted = true;
    if (this.state !== RUNNING) return this.finish(now);
    this.roll(now);
    this.schedule.takeDue(now, this.backlog);
    this.schedule.stop(now);
    // Stopping means stopping: what was due and not yet sent will not be.
    for (let n = this.backlog.length; n > 0; n--) this.error('unsent', -1);
    this.backlog.clear();
    this.startDrain(now);
  };

  private finish(now: number): void {
    if (this.state === DONE) return;
    const started = this.state !== PENDING;
    if (started) this.roll(now);
    for (let n = this.backlog.length; n > 0; n--) this.error('unsent', -1);
    this.backlog.clear();
    for (let n = this.pool.closeAll(); n > 0; n--) this.error('timeout', -1);
    this.slow?.stop();
    // The last interval is partial; report it if it belongs to a phase or anything happened in it.
    if (started && (this.cur < this.plan.end_index || this.stats.active)) {
      this.report(this.cur, this.cpu.takeMs(), this.lag.lagSoFar(now));
    }
    this.idle?.stop();
    this.state = DONE;
    this.cur = Infinity;
    if (this.schedTimer) clearTimeout(this.schedTimer);
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    this.lag.stop();
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.schedule) this.summary.due = this.schedule.total;
    if (this.idle?.note) this.summary.notes = [this.idle.note];
    this.resolve(this.summary);
  }
}
