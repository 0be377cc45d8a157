/**
 * The agent's figures summed since it started, for a Prometheus scrape: the agent thread folds in each interval
 * record as it harvests it (once per interval, never per request), and the endpoint reads the totals.
 *
 * Series are per execution context under its name and kind, not its thread id: a server that makes a thread or a
 * process per connection would otherwise grow a series per connection. Past MAX_CONTEXTS names, further contexts
 * fold into one `other` per kind, so a scrape stays bounded whatever the host does.
 */
import { STAGE_COUNT, emptyExpHistogram, mergeExpHistograms, type ExpHistogramData } from '../../src/vocabulary/index.js';
import type { ContextKind, IntervalRecord } from './interval-record.js';

/** Enough for every named thread of the reference servers' pools; past it, `other`. */
export const MAX_CONTEXTS = 32;
export const OTHER_CONTEXT = 'other';

/** One context's totals. Counts and milliseconds since the agent started, but for the gauges marked as such. */
export interface ContextTotals {
  name: string;
  kind: ContextKind;
  requests: number;
  joined: number;
  /** Requests in flight integrated over time, request-ms. */
  inFlightMs: number;
  stageMs: number[];
  stageEntries: number[];
  splitRequests: number;
  splitOnCpuMs: number;
  splitRunqueueMs: number;
  splitBlockedMs: number;
  splitWallMs: number;
  duration: ExpHistogramData;
  loopDelay: ExpHistogramData;
  cpuUserMs: number;
  cpuSystemMs: number;
  voluntary: number;
  involuntary: number;
  runqueueMs: number;
  /** Gauge: kernel threads in the context in the latest interval it appeared in. */
  threads: number;
  /** Gauge: mean event-loop utilization of its threads with a loop in that interval; null without a loop. */
  utilization: number | null;
  /** The interval the gauges are from. */
  index: number;
}

/** The process's counters summed over intervals (rssBytes: a gauge, at the latest interval's end). */
export type ProcessTotals = IntervalRecord['process'];

/** What a scrape reads. */
export interface CumulativeState {
  /** In the order they first appeared. */
  contexts: readonly ContextTotals[];
  process: ProcessTotals;
  dropped: number;
  errors: number;
  /** The latest interval folded in (-1: none yet); gauges of contexts not in it are stale and left out. */
  index: number;
}

function newContext(name: string, kind: ContextKind): ContextTotals {
  return {
    name,
    kind,
    requests: 0,
    joined: 0,
    inFlightMs: 0,
    stageMs: new Array<number>(STAGE_COUNT).fill(0),
    stageEntries: new Array<number>(STAGE_COUNT).fill(0),
    splitRequests: 0,
    splitOnCpuMs: 0,
    splitRunqueueMs: 0,
    splitBlockedMs: 0,
    splitWallMs: 0,
    duration: emptyExpHistogram(),
    loopDelay: emptyExpHistogram(),
    cpuUserMs: 0,
    cpuSystemMs: 0,
    voluntary: 0,
    involuntary: 0,
    runqueueMs: 0,
    threads: 0,
    utilization: null,
    index: -1,
  };
}

export class CumulativeTotals implements CumulativeState {
  private readonly byKey = new Map<string, ContextTotals>();
  readonly contexts: ContextTotals[] = [];
  readonly process: ProcessTotals = { cpuUserMs: 0, cpuSystemMs: 0, voluntary: 0, involuntary: 0, runqueueMs: 0, rssBytes: 0 };
  dropped = 0;
  errors = 0;
  index = -1;

  private context(name: string, kind: ContextKind): ContextTotals {
    let key = `${kind}\0${name}`;
    let t = this.byKey.get(key);
    if (t) return t;
    if (this.byKey.size >= MAX_CONTEXTS) {
      name = OTHER_CONTEXT;
      key = `${kind}\0${name}`;
      t = this.byKey.get(key);
      if (t) return t;
    }
    t = newContext(name, kind);
    this.byKey.set(key, t);
    this.contexts.push(t);
    return t;
  }

  /**
   * Folds in one interval. Records may come late and out of order (a forked child's hand-off is for intervals
   * already harvested): counters add whatever the order, gauges only move forward.
   */
  add(r: IntervalRecord): void {
    const utilizations = new Map<ContextTotals, number[]>();
    for (const c of r.contexts) {
      const t = this.context(c.name, c.kind);
      t.cpuUserMs += c.cpuUserMs;
      t.cpuSystemMs += c.cpuSystemMs;
      t.voluntary += c.voluntary;
      t.involuntary += c.involuntary;
      t.runqueueMs += c.runqueueMs;
      const b = c.bucket;
      if (b) {
        t.requests += b.requests;
        t.joined += b.joined;
        t.inFlightMs += b.inFlightMs;
        for (let i = 0; i < STAGE_COUNT; i++) {
          t.stageMs[i] += b.stageMs[i];
          t.stageEntries[i] += b.stageEntries[i];
        }
        if (b.split) {
          t.splitRequests += b.split.requests;
          t.splitOnCpuMs += b.split.onCpuMs;
          t.splitRunqueueMs += b.split.runqueueMs;
          t.splitBlockedMs += b.split.blockedMs;
          t.splitWallMs += b.split.wallMs;
        }
        if (b.duration.count > 0) t.duration = mergeExpHistograms([t.duration, b.duration]);
        if (b.loopDelay.count > 0) t.loopDelay = mergeExpHistograms([t.loopDelay, b.loopDelay]);
      }
      if (r.index < t.index) continue;
      // Several threads under one name (a pool named alike) make one series: threads add, utilization averages.
      if (r.index > t.index) {
        t.index = r.index;
        t.threads = 0;
        utilizations.set(t, []);
      }
      t.threads += c.threads;
      if (c.utilization !== null) {
        const list = utilizations.get(t) ?? [];
        list.push(c.utilization);
        utilizations.set(t, list);
      }
    }
    for (const [t, list] of utilizations) {
      t.utilization = list.length ? list.reduce((s, u) => s + u, 0) / list.length : null;
    }
    const p = r.process;
    this.process.cpuUserMs += p.cpuUserMs;
    this.process.cpuSystemMs += p.cpuSystemMs;
    this.process.voluntary += p.voluntary;
    this.process.involuntary += p.involuntary;
    this.process.runqueueMs += p.runqueueMs;
    // A hand-off's record carries no process figures (rss 0): it must not overwrite the process's gauge.
    if (r.index >= this.index && p.rssBytes > 0) this.process.rssBytes = p.rssBytes;
    this.dropped += r.dropped;
    this.errors += r.errors;
    for (const c of r.children ?? []) {
      this.dropped += c.dropped;
      this.errors += c.errors;
    }
    this.index = Math.max(this.index, r.index);
  }
}
