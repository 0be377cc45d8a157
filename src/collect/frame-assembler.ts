/**
 * Joins what the generator, the agents and the backend said about each interval into one timeline frame.
 * Sources report on their own schedules; a frame goes out once the generator is LAG intervals past it (agents
 * export a few milliseconds after each boundary), or at `finish`. Frames go out in index order, exactly once.
 * An agent that reported the interval before but not this one yet is waited for, up to MAX_LAG intervals: a
 * starved agent thread catches up several intervals at once, and its data must not miss frames already gone.
 *
 * Without a generator (`srvlens dashboard`: agents started by the user), the clock paces the frames instead
 * (`pacedBy: 'clock'`, `tick`): frames start at the first interval an agent reported, go out LAG intervals behind
 * the clock, and never past the last interval an agent reported: a frame of silence says nothing, and data that
 * comes in batches (an OTel SDK exports spans every few seconds) still lands in its frames.
 *
 * Other frame sources add what they measured to the frames of their intervals (`include`): the /proc watch its
 * accept queue, and its threads for a server without an agent; the kernel tracer the accept queue's wait, and the
 * requests of a server without an agent (where agents reported the interval, theirs are the frame's).
 */
import {
  STAGE,
  STAGES,
  mergeExpHistograms,
  type AcceptQueueInterval,
  type AcceptWaitInterval,
  type BackendInterval,
  type ContextInterval,
  type Frame,
  type GeneratorInterval,
  type ServerInterval,
  type StageName,
} from '../vocabulary/index.js';
import type { FrameSink, FrameSource } from '../vocabulary/frame-source.js';
import type { AgentInterval } from './otlp-json.js';

const LAG = 2;
/**
 * How long a frame waits for an agent that fell behind, intervals. A starved agent is late by many: fork-per-
 * connection at three times its capacity on 2 cores, with the kernel tracer on, had its parent's agent 8 intervals
 * behind, and a wait of 6 recorded a whole phase of it as 0 CPU. Within the agents' export queue (60 intervals by
 * default: what they keep, so what can still come); the live view lags by this only while an agent is late.
 */
export const MAX_LAG = 30;

export interface AssemblerOptions {
  /** What says an interval is over: the generator's report of it (the default), or the clock's `tick`. */
  pacedBy?: 'generator' | 'clock';
}

interface Pending {
  t_ms: number;
  generator: GeneratorInterval | null;
  backend: BackendInterval | null;
  agents: AgentInterval[];
  /** Contexts other sources measured (FrameAssembler.include). */
  measured: ContextInterval[];
  acceptQueue?: AcceptQueueInterval;
  acceptWait?: AcceptWaitInterval;
  /** Requests another source measured (the kernel tracer, for a server without an agent). */
  measuredServer?: ServerInterval;
}

export class FrameAssembler implements FrameSource {
  private readonly pending = new Map<number, Pending>();
  private first: number | null = null;
  private nextOut: number | null = null;
  /** The last interval the pace-setter (the generator, or the clock) has seen end. */
  private lastGenerator = -1;
  private lastAgent = -1;
  private readonly byClock: boolean;
  /** The first and last interval each agent process reported, to know whom a frame still waits for. */
  private readonly seen = new Map<number, { first: number; last: number }>();
  private emit: FrameSink = () => undefined;
  /** Agents' intervals that came after their frame had gone out, not yet said on a frame. */
  private late = 0;

  constructor(
    private readonly run: number,
    private readonly intervalMs: number,
    options: AssemblerOptions = {},
  ) {
    this.byClock = options.pacedBy === 'clock';
  }

  pipe(sink: FrameSink): void {
    this.emit = sink;
  }

  private slot(index: number): Pending {
    let p = this.pending.get(index);
    if (!p) {
      p = { t_ms: index * this.intervalMs, generator: null, backend: null, agents: [], measured: [] };
      this.pending.set(index, p);
    }
    return p;
  }

  addGenerator(index: number, data: GeneratorInterval): void {
    if (this.first === null) {
      this.first = index;
      this.nextOut = index;
    }
    this.slot(index).generator = data;
    this.lastGenerator = Math.max(this.lastGenerator, index);
    this.emitThrough(this.lastGenerator - LAG);
  }

  addBackend(index: number, data: BackendInterval): void {
    if (this.nextOut === null || index >= this.nextOut) this.slot(index).backend = data;
  }

  /** Joins the frames of `source` into this one's: their contexts beside the agents', their accept queue, their requests. */
  include(source: FrameSource): void {
    source.pipe((f) => {
      if (this.nextOut !== null && f.index < this.nextOut) return;
      const slot = this.slot(f.index);
      slot.measured.push(...f.contexts);
      if (f.accept_queue) slot.acceptQueue = f.accept_queue;
      if (f.accept_wait) slot.acceptWait = f.accept_wait;
      if (f.server) slot.measuredServer = f.server;
    });
  }

  addAgents(list: AgentInterval[]): void {
    for (const a of list) {
      const s = this.seen.get(a.pid);
      this.seen.set(a.pid, s ? { first: Math.min(s.first, a.index), last: Math.max(s.last, a.index) } : { first: a.index, last: a.index });
      this.lastAgent = Math.max(this.lastAgent, a.index);
    }
    if (this.byClock && this.first === null && list.length > 0) {
      this.first = list.reduce((m, a) => Math.min(m, a.index), Infinity);
      this.nextOut = this.first;
    }
    for (const a of list) {
      if (this.nextOut === null || a.index >= this.nextOut) this.slot(a.index).agents.push(a);
      // Too late for its frame: lost to the figures, and said on the next frame out (agents_kept_all fails on it).
      // Before the first frame it had none: the time before the load, not a loss.
      else if (this.first !== null && a.index >= this.first) this.late++;
    }
  }

  /** Whether agent data for `index` has arrived (the runner waits for the last interval before stopping). */
  hasAgentData(index: number): boolean {
    return (this.pending.get(index)?.agents.length ?? 0) > 0 || (this.nextOut !== null && index < this.nextOut);
  }

  get lastGeneratorIndex(): number {
    return this.lastGenerator;
  }

  /** The last interval any agent reported (-1 before the first report). */
  get lastAgentIndex(): number {
    return this.lastAgent;
  }

  /** Clock-paced: interval `index` of the clock is over (call it a little after each boundary). */
  tick(index: number): void {
    if (!this.byClock) throw new Error('tick() paces a clock-paced assembler only: this one follows the generator');
    this.lastGenerator = Math.max(this.lastGenerator, index);
    this.emitThrough(Math.min(this.lastGenerator - LAG, this.lastAgent));
  }

  /**
   * Emits every remaining frame up to the generator's last interval (clock-paced: up to the last interval an agent
   * reported); data before the first is dropped.
   */
  finish(): void {
    this.emitThrough(this.byClock ? this.lastAgent : this.lastGenerator, true);
    this.pending.clear();
  }

  /** Whether an agent that reported before `index` and since `index - 1` has not reported `index` yet. */
  private waitsForAgent(index: number): boolean {
    const reported = new Set(this.pending.get(index)?.agents.map((a) => a.pid));
    for (const [pid, s] of this.seen) if (s.first < index && s.last >= index - 1 && !reported.has(pid)) return true;
    return false;
  }

  private emitThrough(last: number, force = false): void {
    if (this.nextOut === null) return;
    for (; this.nextOut <= last; this.nextOut++) {
      const index = this.nextOut;
      if (!force && this.lastGenerator < index + MAX_LAG && this.waitsForAgent(index)) break;
      const p = this.pending.get(index) ?? { t_ms: index * this.intervalMs, generator: null, backend: null, agents: [], measured: [] };
      this.pending.delete(index);
      this.emit({
        kind: 'frame',
        run: this.run,
        index,
        t_ms: p.t_ms,
        interval_ms: this.intervalMs,
        phase: p.generator?.phase ?? null,
        generator: p.generator,
        server: mergeServer(p.agents) ?? p.measuredServer ?? null,
        contexts: [...p.agents.flatMap(toContexts), ...p.measured],
        backend: p.backend,
        ...(p.acceptQueue ? { accept_queue: p.acceptQueue } : {}),
        ...(p.acceptWait ? { accept_wait: p.acceptWait } : {}),
        ...exemplarsOf(p.agents),
        ...(this.late > 0 ? { agents_late: this.late } : {}),
      });
      this.late = 0;
    }
    for (const key of this.pending.keys()) if (key < this.nextOut) this.pending.delete(key);
  }
}

function exemplarsOf(agents: AgentInterval[]): { exemplars?: Frame['exemplars'] } {
  const list = agents.flatMap((a) => a.exemplars ?? []);
  return list.length ? { exemplars: list } : {};
}

/** Sums every context's request data; the queue stages are over joined requests, the handler stages over all. */
export function mergeServer(agents: AgentInterval[]): ServerInterval | null {
  if (agents.length === 0) return null;
  const contexts = agents.flatMap((a) => a.contexts);
  const requests = contexts.reduce((s, c) => s + c.requests, 0);
  const joined = contexts.reduce((s, c) => s + c.joined, 0);
  const stages = Object.fromEntries(
    STAGES.map((name) => [
      name,
      {
        sum_ms: contexts.reduce((s, c) => s + c.stage_ms[name], 0),
        requests: STAGE[name] <= STAGE.server_queue ? joined : requests,
        entries: contexts.reduce((s, c) => s + c.stage_entries[name], 0),
      },
    ]),
  ) as ServerInterval['stages'];
  const splits = contexts.flatMap((c) => (c.split ? [c.split] : []));
  // Only when every context that served requests said how long they were in flight: a partial sum is no mean.
  const serving = contexts.filter((c) => c.requests > 0 || (c.in_flight_ms ?? 0) > 0);
  const inFlight = serving.every((c) => c.in_flight_ms !== null) ? serving.reduce((s, c) => s + (c.in_flight_ms ?? 0), 0) : null;
  return {
    requests,
    joined,
    ...(inFlight !== null ? { in_flight_ms: inFlight } : {}),
    stages,
    duration: mergeExpHistograms(contexts.flatMap((c) => (c.duration ? [c.duration] : []))),
    ...(splits.length
      ? {
          thread_split: {
            requests: splits.reduce((s, x) => s + x.requests, 0),
            on_cpu_ms: splits.reduce((s, x) => s + x.on_cpu_ms, 0),
            runqueue_ms: splits.reduce((s, x) => s + x.runqueue_ms, 0),
            blocked_ms: splits.reduce((s, x) => s + x.blocked_ms, 0),
            // Only when every split came with its wall time (agents before it did not send it).
            ...(splits.every((x) => x.wall_ms !== undefined) ? { wall_ms: splits.reduce((s, x) => s + (x.wall_ms ?? 0), 0) } : {}),
          },
        }
      : {}),
    dropped: agents.reduce((s, a) => s + a.dropped, 0),
    agent_errors: agents.reduce((s, a) => s + a.agent_errors, 0),
  };
}

/** One frame context per execution context: `pid/tid` for threads, `pid/runtime` for the rest of a process. */
function toContexts(a: AgentInterval): ContextInterval[] {
  // Request data derived from spans says nothing about execution contexts: no CPU, no switches. Leave it out
  // rather than show zeros.
  return a.contexts.filter((c) => c.kind !== 'spans').map((c) => ({
    key: c.kind === 'process' ? String(a.pid) : c.kind === 'runtime' ? `${a.pid}/runtime` : `${a.pid}/${c.tid}`,
    pid: a.pid,
    tid: c.kind === 'process' || c.kind === 'runtime' ? null : c.tid,
    name: c.kind === 'process' ? a.service : `${a.service}:${c.name}`,
    role: c.kind === 'process' ? a.role : c.kind,
    cpu_user_ms: c.cpu_user_ms,
    cpu_system_ms: c.cpu_system_ms,
    voluntary: c.voluntary,
    involuntary: c.involuntary,
    runqueue_wait_ms: c.runqueue_wait_ms,
    eventloop_delay: c.eventloop_delay,
    eventloop_utilization: c.eventloop_utilization,
    // The process's resident set, once per process: on its one context, or on its runtime's where threads are listed.
    rss_bytes: c.kind === 'process' || c.kind === 'runtime' ? a.rss_bytes : null,
  }));
}
