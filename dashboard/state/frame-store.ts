/**
 * The live dashboard's memory of a run in progress: ring buffers, so an hour of frames costs what a minute does.
 * Per run it keeps the last CHART_WINDOW frames (the series behind the cursor) and the last PHASE_WINDOW frames of
 * each phase (what the phase's figures and the Compare view are computed from, also after the run moved on).
 */
import { availableParallelism } from 'node:os';
import type { HostCores } from '../../src/analysis/self-checks.js';
import { cpuQuotaCores } from '../../src/vocabulary/cpu-limit.js';
import type { Frame, ModelSeen, RunStart, Slo } from '../../src/vocabulary/index.js';
import { RingBuffer } from './ring-buffer.js';
import { frameSummary } from '../../src/recording/format.js';
import { newRunInfo, noteFrame, spanAt, type PhasePlan, type RunInfo, type Timeline } from './timeline.js';
import { CHART_WINDOW, PHASE_WINDOW } from './windows.js';

interface RunStore {
  info: RunInfo;
  recent: RingBuffer<Frame>;
  /** One ring per phase span, in span order; item n is the span's n-th frame. */
  phases: RingBuffer<Frame>[];
}

/** A server of the scenario, known before its run starts. */
export interface PlannedServer {
  name: string;
  model: string;
  size: Record<string, number>;
}

export class LiveFrameStore implements Timeline {
  readonly source = 'live' as const;
  readonly damage = null;
  /** Live frames are this machine's, unless told (a recording's frames fed as live, in tests: its host's). */
  readonly host: HostCores;
  private readonly stores: RunStore[];

  readonly concurrent: boolean;
  readonly slo: Slo | null;

  /**
   * `servers`: the scenario's, in run order, so that views can list the ones not run yet. `concurrent`: runs go on
   * side by side (servers that agents report as they come, `srvlens dashboard`) and end only by `end`; otherwise a
   * run's first frame ends the run before it, as the runner runs servers one after another.
   */
  constructor(
    readonly scenario: string,
    readonly intervalMs: number,
    readonly plan: readonly PhasePlan[] | null,
    servers: readonly PlannedServer[],
    options: { concurrent?: boolean; slo?: Slo | null; host?: HostCores } = {},
  ) {
    this.concurrent = options.concurrent === true;
    this.host = options.host ?? { cpus: availableParallelism(), cpu_quota_cores: cpuQuotaCores() };
    this.slo = options.slo ?? null;
    this.stores = servers.map((s, run) =>
      newStore({ kind: 'run-start', run, server: s.name, model: s.model, size: s.size, workload: {}, t_ms: 0 }),
    );
  }

  /** Adds a frame as the runner hands it over (frames in order within a run). */
  push(frame: Frame, run: RunStart): void {
    let store = this.stores[run.run];
    if (!store || store.info.frames === 0) {
      if (!this.concurrent) for (const s of this.stores) if (s.info.frames > 0) s.info.ended ??= { ok: true, error: null };
      store = newStore(run);
      this.stores[run.run] = store;
    }
    const spans = store.info.spans.length;
    noteFrame(store.info, frameSummary(frame));
    if (store.info.spans.length > spans) store.phases.push(new RingBuffer(PHASE_WINDOW));
    store.phases[store.phases.length - 1].push(frame);
    store.recent.push(frame);
  }

  /** Concurrent runs: a run is known from its start, before its first frame. Runs start in number order. */
  start(run: RunStart): void {
    this.stores[run.run] ??= newStore(run);
  }

  /** A run ended (concurrent runs: the others go on). */
  end(run: number, ok: boolean, error: string | null): void {
    const store = this.stores[run];
    if (store) store.info.ended = { ok, error };
  }

  /** The model a run's server is seen as now (the /proc agent names it again as it sees more). */
  detect(run: number, finding: ModelSeen): void {
    const store = this.stores[run];
    if (!store) return;
    store.info.detected = finding;
    store.info.start = { ...store.info.start, model: finding.model };
  }

  runs(): readonly RunInfo[] {
    return this.stores.map((s) => s.info);
  }

  async frames(run: number, from: number, to: number): Promise<readonly Frame[]> {
    const store = this.stores[run];
    if (!store) return [];
    const out: Frame[] = [];
    for (let pos = Math.max(0, from); pos < Math.min(to, store.info.frames); pos++) {
      const frame = store.recent.at(pos) ?? this.fromPhase(store, pos);
      if (frame) out.push(frame);
    }
    return out;
  }

  /** Frames held per run, counted per ring (a frame can be in two): what the bench reports beside memory. */
  held(): number[] {
    return this.stores.map((s) => s.recent.count - s.recent.first + s.phases.reduce((t, p) => t + p.count - p.first, 0));
  }

  private fromPhase(store: RunStore, pos: number): Frame | undefined {
    const span = spanAt(store.info.spans, pos);
    return span ? store.phases[store.info.spans.indexOf(span)].at(pos - span.from) : undefined;
  }
}

function newStore(start: RunStart): RunStore {
  return { info: newRunInfo(start), recent: new RingBuffer(CHART_WINDOW), phases: [] };
}
