/**
 * bpftrace's `-f json` output, one JSON document a line (tracer-program.ts): the cumulative counters, the
 * server-time buckets and the per-interval extremes it prints at each boundary of the interval grid, turned into one
 * interval of figures per boundary by difference. A map printed empty (nothing was added to it yet) is 0.
 */
import type { KernelRequests } from '../../src/vocabulary/kernel-requests.js';
import { AGGREGATES, COUNTERS, DURATION_MAP, PER_CPU_SUMS, PER_INTERVAL } from './tracer-program.js';

export type Counter = (typeof COUNTERS)[number];
/** The program's counters, and `req`: the requests timed, which the program counts in the server-time buckets. */
type ProgramCounters = Record<Counter | 'req', number>;
type PerInterval = (typeof PER_INTERVAL)[number];

const ALL = [...COUNTERS, 'req'] as const;
const zeroCounters = (): ProgramCounters => Object.fromEntries(ALL.map((c) => [c, 0])) as ProgramCounters;
const bucketSum = (b: ReadonlyMap<number, number>) => [...b.values()].reduce((a, v) => a + v, 0);

const SCALARS = new Set<string>(AGGREGATES.map((c) => `@${c}`));
const SUMS = new Map<string, readonly Counter[]>(Object.entries(PER_CPU_SUMS).map(([m, names]) => [`@${m}`, names]));
const KEYED = new Set<string>([...PER_INTERVAL, DURATION_MAP].map((c) => `@${c}`));

export type TracerLine =
  | { kind: 'ready' }
  | { kind: 'counter'; name: Counter; value: number }
  /** A map of per-CPU tuples of running sums (PER_CPU_SUMS), summed over CPUs. */
  | { kind: 'counters'; values: Partial<Record<Counter, number>> }
  /** A map keyed by number: the per-interval extremes (by interval index) or the server-time buckets (by bucket index). */
  | { kind: 'keyed'; name: PerInterval | typeof DURATION_MAP; values: Map<number, number> }
  /** A boundary of the grid: interval `index` has begun; what was printed before it is as of its start. */
  | { kind: 'tick'; index: number; ns: number }
  /** The program's end: what was printed before it is as of `ns`. */
  | { kind: 'end'; ns: number }
  /** bpftrace could not read `events` of the program's prints off the ring buffer: those lines never came. */
  | { kind: 'lost'; events: number }
  | { kind: 'error'; message: string }
  | { kind: 'other' };

export function parseTracerLine(line: string): TracerLine {
  let doc: { type?: string; data?: unknown; msg?: string };
  try {
    doc = JSON.parse(line);
  } catch {
    // Not JSON: bpftrace's own messages on stdout (0.17 prints some warnings there).
    return { kind: 'other' };
  }
  if (doc.type === 'printf' && typeof doc.data === 'string') {
    if (doc.data.startsWith('srvlens-ready')) return { kind: 'ready' };
    const tick = /^srvlens-tick (\d+) (\d+)/.exec(doc.data);
    if (tick) return { kind: 'tick', index: Number(tick[1]), ns: Number(tick[2]) };
    const end = /^srvlens-end (\d+)/.exec(doc.data);
    if (end) return { kind: 'end', ns: Number(end[1]) };
    return { kind: 'other' };
  }
  if (doc.type === 'map' && doc.data !== null && typeof doc.data === 'object') {
    const [name, value] = Object.entries(doc.data)[0] ?? [];
    if (name === undefined) return { kind: 'other' };
    if (SCALARS.has(name)) return { kind: 'counter', name: name.slice(1) as Counter, value: typeof value === 'number' ? value : 0 };
    const names = SUMS.get(name);
    if (names !== undefined) {
      const values: Partial<Record<Counter, number>> = Object.fromEntries(names.map((n) => [n, 0]));
      if (value !== null && typeof value === 'object') {
        for (const tuple of Object.values(value)) if (Array.isArray(tuple)) names.forEach((n, i) => (values[n]! += typeof tuple[i] === 'number' ? tuple[i] : 0));
      }
      return { kind: 'counters', values };
    }
    if (KEYED.has(name)) {
      const values = new Map<number, number>();
      if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (typeof v === 'number') values.set(Number(k), v);
      return { kind: 'keyed', name: name.slice(1) as PerInterval | typeof DURATION_MAP, values };
    }
    return { kind: 'other' };
  }
  if (doc.type === 'lost_events') {
    const events = (doc.data as { events?: unknown } | undefined)?.events;
    return { kind: 'lost', events: typeof events === 'number' && events > 0 ? events : 1 };
  }
  if (doc.type === 'error') return { kind: 'error', message: JSON.stringify(doc.data ?? doc.msg ?? doc) };
  return { kind: 'other' };
}

/** What the kernel saw in one interval of the grid. */
export interface KernelInterval {
  index: number;
  counters: ProgramCounters;
  /** Server times by exponential-histogram bucket of seconds at DURATION_SCALE: index -> requests. */
  buckets: Map<number, number>;
  /** The interval's longest server time, ns; null without requests. */
  maxNs: number | null;
}

/** Everything printed up to one boundary. */
interface Printed {
  counters: ProgramCounters;
  buckets: Map<number, number>;
  /** Some of the prints before this boundary were lost: what it holds may be as of an earlier one. */
  stale: boolean;
}

const minus = (a: ProgramCounters, b: ProgramCounters): ProgramCounters =>
  Object.fromEntries(ALL.map((c) => [c, Math.max(0, a[c] - b[c])])) as ProgramCounters;

/**
 * Follows the output line by line: `onInterval` gets each whole interval of the grid (one whose start and end
 * boundaries were both printed), and the running total covers everything since the program started.
 */
export class TracerFollower {
  private counters = zeroCounters();
  private buckets = new Map<number, number>();
  private extremes: Record<PerInterval, Map<number, number>> = { srv_max_ns: new Map() };
  private last: { index: number; printed: Printed } | null = null;
  private maxNs: number | null = null;
  /** CLOCK_MONOTONIC ns of the last print: the total is as of then. */
  lastNs: number | null = null;
  /** Prints bpftrace lost, and the intervals left out for them. */
  lostEvents = 0;
  intervalsLost = 0;
  /** The last interval closed by a boundary, sent or left out; -1 before the first. */
  lastClosed = -1;
  private lostSinceTick = false;

  constructor(private readonly onInterval: (i: KernelInterval) => void = () => undefined) {}

  /** Feeds one parsed line. */
  take(l: TracerLine): void {
    if (l.kind === 'counter') this.counters[l.name] = l.value;
    else if (l.kind === 'counters') Object.assign(this.counters, l.values);
    else if (l.kind === 'keyed') {
      if (l.name === DURATION_MAP) {
        this.buckets = l.values;
        this.counters.req = bucketSum(l.values);
      } else {
        this.extremes[l.name] = l.values;
        if (l.name === 'srv_max_ns') for (const v of l.values.values()) this.maxNs = Math.max(this.maxNs ?? 0, v);
      }
    } else if (l.kind === 'lost') {
      this.lostEvents += l.events;
      this.lostSinceTick = true;
    } else if (l.kind === 'tick') {
      const printed = { counters: { ...this.counters }, buckets: new Map(this.buckets), stale: this.lostSinceTick };
      this.lostSinceTick = false;
      // After a stall of more than an interval the two prints span several: no interval then, rather than one made of
      // several (the total still has them). A boundary with a lost print may hold a counter as of an earlier one, so
      // both intervals it bounds would be wrong, one short and one over: they are left out and counted, not sent.
      if (this.last !== null && this.last.index === l.index - 1) {
        if (this.last.printed.stale || printed.stale) this.intervalsLost++;
        else this.onInterval(this.interval(l.index - 1, this.last.printed, printed));
      }
      this.last = { index: l.index, printed };
      this.lastClosed = l.index - 1;
      this.lastNs = l.ns;
    } else if (l.kind === 'end') this.lastNs = l.ns;
  }

  private interval(index: number, from: Printed, to: Printed): KernelInterval {
    const buckets = new Map<number, number>();
    for (const [k, v] of to.buckets) {
      const d = v - (from.buckets.get(k) ?? 0);
      if (d > 0) buckets.set(k, d);
    }
    return {
      index,
      counters: minus(to.counters, from.counters),
      buckets,
      maxNs: this.extremes.srv_max_ns.get(index) ?? null,
    };
  }

  /** Everything since the start over `spanMs`. */
  total(spanMs: number): KernelRequests {
    return { ...kernelRequests(this.counters, spanMs, this.maxNs), lost_prints: this.lostEvents, intervals_lost: this.intervalsLost };
  }
}

const meanMs = (sumNs: number, n: number) => (n > 0 ? sumNs / n / 1e6 : null);

/** Counters summed over `spanMs` as the figures a person reads (src/vocabulary/kernel-requests.ts). */
function kernelRequests(c: ProgramCounters, spanMs: number, maxNs: number | null): Omit<KernelRequests, 'lost_prints' | 'intervals_lost'> {
  return {
    span_ms: spanMs,
    accepts: c.accepts,
    adopted: c.adopted,
    adopted_calls: c.adopted_out,
    requests: c.req,
    responses: c.resp,
    not_http: c.nothttp,
    accept_queue_ms: meanMs(c.aq_ns, c.aq_n),
    accept_queue_n: c.aq_n,
    server_queue_ms: meanMs(c.sq_ns, c.sq_n),
    server_queue_n: c.sq_n,
    server_ms: meanMs(c.srv_ns, c.req),
    server_max_ms: c.req > 0 && maxNs !== null ? maxNs / 1e6 : null,
    send_ms: meanMs(c.send_ns, c.send_n),
    send_n: c.send_n,
    split_n: c.split_n,
    split_server_ms: meanMs(c.split_srv_ns, c.split_n),
    oncpu_ms: meanMs(c.oncpu_ns, c.split_n),
    runqueue_ms: meanMs(c.rq_ns, c.split_n),
    blocked_ms: meanMs(c.blk_ns, c.split_n),
    calls: c.up_n,
    upstream_ms: meanMs(c.up_ns, c.up_n),
    reply_wait_ms: meanMs(c.ow_ns, c.up_n),
  };
}
