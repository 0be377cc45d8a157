/**
 * `srvlens dashboard`'s runs. Without a scenario, each distinct service that sends to the collector (its resource's
 * service.name; every process of a cluster shares one) is a server with a run of its own, its frames assembled on
 * the clock (FrameAssembler, pacedBy 'clock'). Runs go on side by side, not one after another as in `srvlens run`.
 * A service silent for SILENT_MS is taken to be gone: its run ends at its last report, and if it sends again that is
 * a new run. No timers or sockets here: the command feeds in the collector's data and the interval clock's ticks.
 */
import { intervalIndex, monoMs, type RunEnd, type RunStart } from '../vocabulary/index.js';
import type { FrameSink, FrameSource } from '../vocabulary/frame-source.js';
import { FrameAssembler } from './frame-assembler.js';
import type { AgentInterval } from './otlp-json.js';

/**
 * Silence after which a service is gone. An OTel SDK's BatchSpanProcessor exports every 5 s by default, so a span
 * source reports in bursts that far apart; three bursts missed is gone.
 */
export const SILENT_MS = 15_000;

/**
 * Agents keep up to 60 intervals queued while no collector answers (SRVLENS_EXPORT_QUEUE), and send them when one
 * does: older than this (plus slack), or later than the next interval, the data is on another grid than ours: the
 * agent was started with another SRVLENS_INTERVAL_MS.
 */
const OLDEST_INTERVALS = 120;

/** What happens to the runs; their frames go to the sink (`pipe`), each after its run's start and before its end. */
export interface ServiceRunEvents {
  runStart(start: RunStart): void;
  runEnd(end: RunEnd, start: RunStart): void;
  /** Something the user should know: data that cannot be placed on this collector's intervals. */
  warn(message: string): void;
}

interface ActiveRun {
  start: RunStart;
  assembler: FrameAssembler;
}

export class ServiceRuns implements FrameSource {
  private readonly active = new Map<string, ActiveRun>();
  private readonly warned = new Set<string>();
  private runs = 0;
  private readonly silentIntervals: number;
  private sink: FrameSink = () => undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly events: ServiceRunEvents,
    /** The clock's interval now (tests give their own). */
    private readonly now: () => number = () => intervalIndex(monoMs(), intervalMs),
  ) {
    this.silentIntervals = Math.max(10, Math.ceil(SILENT_MS / intervalMs));
  }

  pipe(sink: FrameSink): void {
    this.sink = sink;
  }

  /** Runs started so far, ended ones included. */
  get count(): number {
    return this.runs;
  }

  /** What the collector received, from any number of services and processes. */
  add(list: AgentInterval[]): void {
    const now = this.now();
    const byService = new Map<string, AgentInterval[]>();
    for (const a of list) {
      const name = a.service || `pid ${a.pid}`;
      if (a.index > now + 1 || a.index < now - OLDEST_INTERVALS) {
        this.warnOnce(name, `service ${name} (PID ${a.pid}) reports intervals off this collector's ${this.intervalMs} ms grid and they are left out: start it with SRVLENS_INTERVAL_MS=${this.intervalMs}`);
        continue;
      }
      const group = byService.get(name);
      if (group) group.push(a);
      else byService.set(name, [a]);
    }
    for (const [name, intervals] of byService) this.runOf(name, intervals[0]).assembler.addAgents(intervals);
  }

  /** Interval `index` of the clock is over: frames go out, and services silent too long end their runs. */
  tick(index: number): void {
    for (const [name, run] of this.active) {
      run.assembler.tick(index);
      if (index - run.assembler.lastAgentIndex > this.silentIntervals) this.end(name, run);
    }
  }

  /** Ends every run, with the frames of every interval reported so far. */
  finish(): void {
    for (const [name, run] of this.active) this.end(name, run);
  }

  private runOf(name: string, first: AgentInterval): ActiveRun {
    let run = this.active.get(name);
    if (!run) {
      const start: RunStart = { kind: 'run-start', run: this.runs++, server: name, model: first.model || 'unknown', size: {}, workload: {}, t_ms: monoMs() };
      run = { start, assembler: new FrameAssembler(start.run, this.intervalMs, { pacedBy: 'clock' }) };
      run.assembler.pipe((f) => this.sink(f));
      this.active.set(name, run);
      this.events.runStart(start);
    }
    return run;
  }

  private end(name: string, run: ActiveRun): void {
    this.active.delete(name);
    run.assembler.finish();
    this.events.runEnd({ kind: 'run-end', run: run.start.run, t_ms: monoMs(), ok: true, error: null, detected: null }, run.start);
  }

  private warnOnce(name: string, message: string): void {
    if (this.warned.has(name)) return;
    this.warned.add(name);
    this.events.warn(message);
  }
}
